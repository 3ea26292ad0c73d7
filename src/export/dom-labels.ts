// DOM text over a canvas (token labels, layer names, highlighted text) painted into an exported picture, so
// the PNG shows what the screen shows. Each element is drawn where the browser laid it out, with its own
// computed font, colour and text shadow, scaled from CSS pixels to the picture's pixels and clipped to its
// box (an ellipsis on screen becomes a clipped end here). Text is Canvas2D's, so it is antialiased over
// the view's pixels as the browser antialiases it over the canvas.

/** Elements whose text belongs in the picture; hidden or empty ones are skipped. */
export type LabelElements = readonly HTMLElement[];

/**
 * Paints `elements` into `context`, whose pixels cover `canvas`'s content box at `width` × `height`.
 * Elements outside that box are left out (they are not over the picture on screen either).
 */
export function paintDomLabels(context: OffscreenCanvasRenderingContext2D, canvas: HTMLCanvasElement, elements: LabelElements, width: number, height: number): number {
  const box = canvas.getBoundingClientRect();
  const [left, top] = [box.left + canvas.clientLeft, box.top + canvas.clientTop];
  const [cssWidth, cssHeight] = [canvas.clientWidth, canvas.clientHeight];
  if (cssWidth <= 0 || cssHeight <= 0) return 0;
  const [kx, ky] = [width / cssWidth, height / cssHeight];
  let painted = 0;
  for (const el of elements) {
    const text = el.textContent ?? '';
    const r = el.getBoundingClientRect();
    if (text.trim() === '' || r.width <= 0 || r.height <= 0 || !el.isConnected) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const [x0, y0] = [(r.left - left) * kx, (r.top - top) * ky];
    const [w, h] = [r.width * kx, r.height * ky];
    if (x0 >= width || y0 >= height || x0 + w <= 0 || y0 + h <= 0) continue;
    context.save();
    context.beginPath();
    context.rect(x0, y0, w, h);
    context.clip();
    const size = parseFloat(style.fontSize) * ky;
    context.font = `${style.fontStyle} ${style.fontWeight} ${size}px ${style.fontFamily}`;
    context.fillStyle = style.color;
    context.textAlign = 'left';
    context.textBaseline = 'middle';
    applyShadow(context, style.textShadow, ky);
    context.fillText(text, x0 + parseFloat(style.paddingLeft || '0') * kx, y0 + h / 2);
    context.restore();
    painted += 1;
  }
  return painted;
}

/** The first shadow of a computed text-shadow ("rgb(0, 0, 0) 0px 0px 3px"), scaled; none when absent. */
function applyShadow(context: OffscreenCanvasRenderingContext2D, shadow: string, k: number): void {
  const match = /^(rgba?\([^)]*\)|#[0-9a-f]+|[a-z]+)\s+(-?[\d.]+)px\s+(-?[\d.]+)px(?:\s+([\d.]+)px)?/i.exec(shadow);
  if (!match || shadow === 'none') return;
  context.shadowColor = match[1]!;
  context.shadowOffsetX = Number(match[2]) * k;
  context.shadowOffsetY = Number(match[3]) * k;
  context.shadowBlur = Number(match[4] ?? 0) * k;
}
