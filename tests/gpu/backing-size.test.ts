// observeBackingSize: the canvas has its pixel size as soon as observing starts, not only once the
// ResizeObserver reports (the next rendering opportunity, which under load came after an element's 'ready').
import { afterEach, expect, it } from 'vitest';
import { observeBackingSize } from '../../src/render/backing-size';

const made: HTMLElement[] = [];
afterEach(() => { for (const element of made.splice(0)) element.remove(); });

function canvasStyled(css: string, attached = true): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.style.cssText = css;
  if (attached) document.body.append(canvas);
  made.push(canvas);
  return canvas;
}

it('sizes a laid-out canvas at once, to its CSS size × devicePixelRatio', () => {
  const canvas = canvasStyled('display: block; width: 123px; height: 45px');
  const heard: number[][] = [];
  const stop = observeBackingSize(canvas, (w, h) => heard.push([w, h]));
  const dpr = window.devicePixelRatio || 1;
  expect([canvas.width, canvas.height]).toEqual([Math.round(123 * dpr), Math.round(45 * dpr)]);
  expect(heard).toEqual([]); // callers read the first size from the canvas
  stop();
});

it('leaves a canvas without a layout box at its size until the observer reports one', async () => {
  const detached = canvasStyled('width: 123px; height: 45px', false);
  const hidden = canvasStyled('display: none; width: 123px; height: 45px');
  const stops = [detached, hidden].map((canvas) => observeBackingSize(canvas));
  for (const canvas of [detached, hidden]) expect([canvas.width, canvas.height]).toEqual([300, 150]);
  document.body.append(detached);
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  expect(detached.width).toBe(Math.round(123 * (window.devicePixelRatio || 1)));
  for (const stop of stops) stop();
});
