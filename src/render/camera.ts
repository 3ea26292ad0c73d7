// A 2-D camera: a uniform scale and a centre map world units to target pixels and back. Pure math, no
// DOM, so pan/zoom/hit-testing are unit-tested in Node and the heatmap shader uses the same formula:
//   world = centre + (pixel − viewport / 2) / scale,   pixels with y down, (0, 0) the top-left corner.
// `version` increments on every change, so a view rewrites its uniforms only when something moved.

/** An axis-aligned rectangle in world units; (x, y) is its top-left corner (y grows down). */
export interface WorldRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A 2-D point; world units or pixels, as the API that takes or returns it says. */
export interface Point {
  x: number;
  y: number;
}

/** Limits for a `Camera`'s fit and zoom; all optional. */
export interface CameraOptions {
  /** Pixels left free around the content when fitting (default 0). */
  padding?: number;
  /** How far one may zoom out, as a fraction of the fitting scale (default 0.5). */
  minZoom?: number;
  /** How far one may zoom in, in pixels per world unit (default 256; never below the fitting scale). */
  maxScale?: number;
}

/**
 * A 2-D pan/zoom camera: `world = centre + (pixel − viewport / 2) / scale`, pixels with y down from the
 * top-left of the target. Pure math, no DOM. `version` increments on every change, so a view can rewrite
 * its uniforms only when something moved.
 */
export class Camera {
  centerX = 0;
  centerY = 0;
  /** Pixels per world unit. */
  scale = 1;
  width = 0;
  height = 0;
  version = 0;
  /** True until the user pans or zooms: while it holds, a resize or new bounds refit the content. */
  fitted = true;
  #bounds: WorldRect = { x: 0, y: 0, width: 1, height: 1 };
  readonly #padding: number;
  readonly #minZoom: number;
  readonly #maxScale: number;

  constructor(options: CameraOptions = {}) {
    this.#padding = options.padding ?? 0;
    this.#minZoom = options.minZoom ?? 0.5;
    this.#maxScale = options.maxScale ?? 256;
  }

  get bounds(): Readonly<WorldRect> {
    return this.#bounds;
  }

  /** The target's size in pixels. Keeps the world point at the centre (or refits, if never moved). */
  setViewport(width: number, height: number): void {
    if (width === this.width && height === this.height) return;
    this.width = width;
    this.height = height;
    if (this.fitted) this.reset();
    else this.#clamp();
  }

  /** The content's extent in world units: what reset() fits and what panning may not leave. */
  setBounds(bounds: WorldRect): void {
    this.#bounds = { ...bounds };
    this.fitted = true;
    this.reset();
  }

  /** Fits the whole content into the viewport, centred. */
  reset(): void {
    const b = this.#bounds;
    this.scale = this.fitScale();
    this.centerX = b.x + b.width / 2;
    this.centerY = b.y + b.height / 2;
    this.fitted = true;
    this.version++;
  }

  /** The scale at which the content just fits (1 while the viewport is empty). */
  fitScale(): number {
    const b = this.#bounds;
    const free = (size: number) => Math.max(size - 2 * this.#padding, 1);
    if (this.width <= 0 || this.height <= 0) return 1;
    return Math.min(free(this.width) / b.width, free(this.height) / b.height);
  }

  /** Maps a target pixel (y down, from the top-left) to world units; writes into `out` and returns it. */
  pixelToWorld(px: number, py: number, out: Point = { x: 0, y: 0 }): Point {
    out.x = this.centerX + (px - this.width / 2) / this.scale;
    out.y = this.centerY + (py - this.height / 2) / this.scale;
    return out;
  }

  /** Maps a world point to target pixels (y down, from the top-left); writes into `out` and returns it. */
  worldToPixel(wx: number, wy: number, out: Point = { x: 0, y: 0 }): Point {
    out.x = (wx - this.centerX) * this.scale + this.width / 2;
    out.y = (wy - this.centerY) * this.scale + this.height / 2;
    return out;
  }

  /** Moves the content by (dx, dy) pixels, as a drag does. */
  pan(dx: number, dy: number): void {
    this.centerX -= dx / this.scale;
    this.centerY -= dy / this.scale;
    this.#moved();
  }

  /** Multiplies the scale by `factor`, keeping the world point under pixel (px, py) where it is. */
  zoomAt(px: number, py: number, factor: number): void {
    const fit = this.fitScale();
    const next = Math.min(Math.max(this.scale * factor, fit * this.#minZoom), Math.max(this.#maxScale, fit));
    const wx = this.centerX + (px - this.width / 2) / this.scale;
    const wy = this.centerY + (py - this.height / 2) / this.scale;
    this.scale = next;
    // Solve world(px) = (wx, wy) for the new centre.
    this.centerX = wx - (px - this.width / 2) / next;
    this.centerY = wy - (py - this.height / 2) / next;
    this.#moved();
  }

  #moved(): void {
    this.fitted = false;
    this.#clamp();
    this.version++;
  }

  // The centre stays inside the content, so some of it is always on screen.
  #clamp(): void {
    const b = this.#bounds;
    this.centerX = Math.min(Math.max(this.centerX, b.x), b.x + b.width);
    this.centerY = Math.min(Math.max(this.centerY, b.y), b.y + b.height);
    this.version++;
  }
}
