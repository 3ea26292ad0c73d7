// A click that is not the end of a drag: pointerdown and pointerup of the same pointer, less than a few
// CSS pixels apart. Panning (interaction.ts) uses the same events, so a drag must not also select.
/** Farther than this between down and up, in CSS pixels, and it was a drag. */
const CLICK_SLOP_PX = 4;

/** Calls `selected` with the canvas pixel (backing-store units, the camera's) of each click. */
export function attachClickSelect(canvas: HTMLCanvasElement, selected: (x: number, y: number) => void): () => void {
  const downs = new Map<number, { x: number; y: number }>();

  function onPointerDown(event: PointerEvent): void {
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    downs.set(event.pointerId, { x: event.clientX, y: event.clientY });
  }

  function onPointerUp(event: PointerEvent): void {
    const down = downs.get(event.pointerId);
    downs.delete(event.pointerId);
    if (!down || Math.hypot(event.clientX - down.x, event.clientY - down.y) > CLICK_SLOP_PX) return;
    const rect = canvas.getBoundingClientRect();
    const sx = rect.width > 0 ? canvas.width / rect.width : 1;
    const sy = rect.height > 0 ? canvas.height / rect.height : 1;
    selected((event.clientX - rect.left) * sx, (event.clientY - rect.top) * sy);
  }

  function onPointerCancel(event: PointerEvent): void {
    downs.delete(event.pointerId);
  }

  canvas.addEventListener('pointerdown', onPointerDown);
  canvas.addEventListener('pointerup', onPointerUp);
  canvas.addEventListener('pointercancel', onPointerCancel);
  return () => {
    canvas.removeEventListener('pointerdown', onPointerDown);
    canvas.removeEventListener('pointerup', onPointerUp);
    canvas.removeEventListener('pointercancel', onPointerCancel);
  };
}
