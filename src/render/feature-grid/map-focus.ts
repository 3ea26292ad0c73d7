// focusMap's camera move: zoom so one map fills most of the viewport, centred on it. Until the user moves
// the camera again, a resize (the canvas getting its CSS size, a window change) zooms onto it anew, so a
// view focused before its first frame (a detail panel) still shows the map, not the size it had then.
import type { Camera, WorldRect } from '../camera';

/** The fraction of the viewport's shorter fit that the focused map fills. */
const FOCUS_FILL = 0.85;

export class MapFocus {
  readonly #camera: Camera;
  #rect: WorldRect | null = null;
  /** camera.version right after the focus moved it: a different version means the user moved since. */
  #version = -1;

  constructor(camera: Camera) {
    this.#camera = camera;
  }

  focus(rect: WorldRect): void {
    this.#rect = rect;
    this.#apply();
  }

  /** camera.setViewport, refocusing if the camera still shows the focused map as focus left it. */
  setViewport(width: number, height: number): void {
    const camera = this.#camera;
    if (width === camera.width && height === camera.height) return;
    const refocus = this.#rect !== null && this.#version === camera.version;
    camera.setViewport(width, height);
    if (refocus) this.#apply();
    else this.#rect = null;
  }

  #apply(): void {
    const [camera, rect] = [this.#camera, this.#rect!];
    if (camera.width > 0 && camera.height > 0) {
      const scale = FOCUS_FILL * Math.min(camera.width / rect.width, camera.height / rect.height);
      camera.zoomAt(camera.width / 2, camera.height / 2, scale / camera.scale);
      const [cx, cy] = [rect.x + rect.width / 2, rect.y + rect.height / 2];
      camera.pan((camera.centerX - cx) * camera.scale, (camera.centerY - cy) * camera.scale);
    } // else: no viewport yet; the first size focuses
    this.#version = camera.version;
  }
}
