// Pan and zoom for a canvas through pointer events: wheel zooms about the pointer, one pointer (mouse or
// finger) drags, two fingers pinch (zoom about their midpoint while panning with it), and the keyboard
// pans (arrows), zooms (+ / -) and resets (0). Positions are converted from CSS to canvas pixels, the
// units of the camera, so HiDPI backing stores need nothing more.
import type { Camera } from './camera';

export interface InteractionHandlers {
  /** The pointer is over canvas pixel (x, y); null when it has left the canvas. */
  hover(x: number, y: number): void;
  leave(): void;
}

/** How much one wheel "pixel" of deltaY zooms: 100 px (a typical notch) ≈ ×1.22. */
const WHEEL_ZOOM_PER_PIXEL = 0.002;
const LINE_HEIGHT_PX = 16;
const KEY_ZOOM = 1.25;
/** Arrow keys pan by this fraction of the viewport. */
const KEY_PAN_FRACTION = 0.1;

/** Attaches the listeners; the function returned removes every one of them. */
export function attachInteraction(canvas: HTMLCanvasElement, camera: Camera, handlers: InteractionHandlers): () => void {
  const pointers = new Map<number, { x: number; y: number }>();
  // The browser must not scroll or zoom the page under a pinch, and the canvas must take key focus.
  const previousTouchAction = canvas.style.touchAction;
  canvas.style.touchAction = 'none';
  if (!canvas.hasAttribute('tabindex')) canvas.tabIndex = 0;

  function toCanvasPixels(event: MouseEvent): { x: number; y: number } {
    const rect = canvas.getBoundingClientRect();
    const sx = rect.width > 0 ? canvas.width / rect.width : 1;
    const sy = rect.height > 0 ? canvas.height / rect.height : 1;
    return { x: (event.clientX - rect.left) * sx, y: (event.clientY - rect.top) * sy };
  }

  function onPointerDown(event: PointerEvent): void {
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    pointers.set(event.pointerId, toCanvasPixels(event));
    try {
      canvas.setPointerCapture(event.pointerId); // keep the drag when the pointer leaves the canvas
    } catch {
      // Synthetic events have no active pointer to capture; dragging still works inside the canvas.
    }
  }

  function onPointerMove(event: PointerEvent): void {
    const now = toCanvasPixels(event);
    const before = pointers.get(event.pointerId);
    if (before) {
      if (pointers.size === 1) camera.pan(now.x - before.x, now.y - before.y);
      else if (pointers.size === 2) pinch(event.pointerId, before, now);
      before.x = now.x;
      before.y = now.y;
    }
    handlers.hover(now.x, now.y);
  }

  // Zoom by the change of the fingers' distance about their midpoint, and pan by the midpoint's motion.
  function pinch(id: number, before: { x: number; y: number }, now: { x: number; y: number }): void {
    const other = [...pointers].find(([otherId]) => otherId !== id)?.[1];
    if (!other) return;
    const distanceBefore = Math.hypot(before.x - other.x, before.y - other.y);
    const distanceNow = Math.hypot(now.x - other.x, now.y - other.y);
    camera.pan((now.x - before.x) / 2, (now.y - before.y) / 2);
    if (distanceBefore > 0) camera.zoomAt((now.x + other.x) / 2, (now.y + other.y) / 2, distanceNow / distanceBefore);
  }

  function onPointerEnd(event: PointerEvent): void {
    pointers.delete(event.pointerId);
  }

  function onWheel(event: WheelEvent): void {
    event.preventDefault(); // the page must not scroll while the view zooms
    const delta = event.deltaMode === WheelEvent.DOM_DELTA_LINE ? event.deltaY * LINE_HEIGHT_PX : event.deltaY;
    const at = toCanvasPixels(event);
    camera.zoomAt(at.x, at.y, Math.exp(-delta * WHEEL_ZOOM_PER_PIXEL));
    handlers.hover(at.x, at.y); // the cell under a still pointer changes with the zoom
  }

  function onKeyDown(event: KeyboardEvent): void {
    const step = KEY_PAN_FRACTION * Math.min(camera.width, camera.height);
    const [cx, cy] = [camera.width / 2, camera.height / 2];
    switch (event.key) {
      case 'ArrowLeft': camera.pan(step, 0); break;
      case 'ArrowRight': camera.pan(-step, 0); break;
      case 'ArrowUp': camera.pan(0, step); break;
      case 'ArrowDown': camera.pan(0, -step); break;
      case '+': case '=': camera.zoomAt(cx, cy, KEY_ZOOM); break;
      case '-': case '_': camera.zoomAt(cx, cy, 1 / KEY_ZOOM); break;
      case '0': camera.reset(); break;
      default: return;
    }
    event.preventDefault();
  }

  const listeners: [string, (event: never) => void, AddEventListenerOptions?][] = [
    ['pointerdown', onPointerDown],
    ['pointermove', onPointerMove],
    ['pointerup', onPointerEnd],
    ['pointercancel', onPointerEnd],
    ['pointerleave', handlers.leave],
    ['wheel', onWheel, { passive: false }],
    ['keydown', onKeyDown],
  ];
  for (const [type, listener, options] of listeners) canvas.addEventListener(type, listener as EventListener, options);
  return () => {
    for (const [type, listener, options] of listeners) canvas.removeEventListener(type, listener as EventListener, options);
    canvas.style.touchAction = previousTouchAction;
  };
}
