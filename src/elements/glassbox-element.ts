// The base of every Glassbox custom element: a thin layer that turns attributes and properties into one call
// of the public API (`mountView`) on the page's shared engine, and handles what every embedded view needs
// the same way: frames only while on screen in a visible tab, a canvas that follows the element's size,
// everything released on removal, a rebuild after a lost device, and errors said on the element itself.
import type { Engine } from '../core/engine';
import type { FrameInfo } from '../core/frame-loop';
import { activityChanged, joinHost, leaveHost, replacingDevice, type ElementHost, type HostMember } from './element-host';
import { ELEMENT_STYLE } from './element-style';

/** What `mountView` gets: a fresh canvas in a positioned stage, on the shared engine. */
export interface MountContext {
  readonly engine: Engine;
  readonly canvas: HTMLCanvasElement;
  /** The canvas's parent, for DOM the view lays over the canvas (labels, tooltips). */
  readonly stage: HTMLElement;
  /** Aborted when this mount is superseded (a new configuration, removal, a lost device). */
  readonly signal: AbortSignal;
}

/** A mounted view: its part of each frame, and how to release it. */
export interface MountedView {
  /** Records compute work into the shared frame's encoder, before any element's render; only while active. */
  compute?(encoder: GPUCommandEncoder, info: FrameInfo): void;
  /** Records the view's render pass into the shared frame's encoder; only while the element is active. */
  render?(encoder: GPUCommandEncoder, info: FrameInfo): void;
  /** Releases the view's GPU objects and DOM; called once, when the view is superseded or the element removed. */
  destroy(): void;
}

/** Where an element's view stands: not connected, being built, drawing, or failed (message in `error`). */
export type ElementState = 'idle' | 'mounting' | 'ready' | 'error';

/**
 * Base of every Glassbox custom element: builds its view (`mountView`) on the page's shared engine, draws
 * only while on screen in a visible tab, rebuilds after a lost device, and shows errors on the element.
 * Dispatches 'glassbox-ready' (`detail.generation`) when a view is mounted and 'glassbox-error'
 * (`detail.message`) when something fails.
 */
export abstract class GlassboxElement extends HTMLElement implements HostMember {
  /** 'ready' once the view is mounted and drawing; 'error' with `error` set when it could not be. */
  state: ElementState = 'idle';
  error: string | null = null;
  /** Frames this element has recorded: tests and pages wait on it. */
  framesDrawn = 0;
  /** The device generation the view is mounted on (0 until a device is lost). */
  generation = 0;

  readonly #stage: HTMLElement;
  readonly #status: HTMLElement;
  #mounted: MountedView | null = null;
  #abort: AbortController | null = null;
  #host: ElementHost | null = null;
  #onScreen = false;
  #remountQueued = false;
  #settled: Promise<void> = Promise.resolve();
  #visibility: IntersectionObserver | null = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = ELEMENT_STYLE;
    this.#stage = document.createElement('div');
    this.#stage.setAttribute('part', 'stage');
    this.#status = document.createElement('div');
    this.#status.setAttribute('part', 'status');
    this.#status.setAttribute('role', 'status');
    root.append(style, this.#stage, this.#status);
  }

  /** Builds the view for the element's current configuration. Throwing shows the message on the element. */
  protected abstract mountView(context: MountContext): Promise<MountedView>;

  /** The mounted view, for subclasses' methods (export, selection); null while none is. */
  protected get mounted(): MountedView | null {
    return this.#mounted;
  }

  /** The shared engine the view is mounted on; null before the first mount. */
  get engine(): Engine | null {
    return this.#host?.engine ?? null;
  }

  /**
   * A changed attribute the mounted view can take without a rebuild (a colormap, a head): return true
   * when handled. The default rebuilds for every change.
   */
  protected attributeUpdated(_name: string): boolean {
    return false;
  }

  /** Resolves when the current (re)build has finished, whether it succeeded or not. */
  get updateComplete(): Promise<void> {
    return this.#settled;
  }

  get active(): boolean {
    return this.state === 'ready' && this.isConnected && this.#onScreen && document.visibilityState === 'visible';
  }

  /** Custom-element hook: starts watching visibility and builds the view on the shared engine. */
  connectedCallback(): void {
    this.#visibility = new IntersectionObserver((entries) => {
      this.#onScreen = entries[entries.length - 1]?.isIntersecting ?? this.#onScreen;
      activityChanged();
    });
    this.#visibility.observe(this);
    this.requestRemount();
  }

  /** Custom-element hook: destroys the view and leaves the shared host (the last one out destroys the engine). */
  disconnectedCallback(): void {
    this.#visibility?.disconnect();
    this.#visibility = null;
    this.#onScreen = false;
    this.#unmount();
    this.#host = null;
    this.state = 'idle';
    leaveHost(this);
  }

  /**
   * Custom-element hook: applies the change in place when the view can (keeping the last good setting if it
   * throws), else rebuilds the view once for all changes in the same task.
   */
  attributeChangedCallback(name: string, previous: string | null, next: string | null): void {
    if (previous === next || !this.isConnected) return;
    try {
      if (this.state === 'ready' && this.attributeUpdated(name)) return this.#clearStatus();
    } catch (error) {
      return this.#report(error); // the view keeps its last good setting
    }
    this.requestRemount();
  }

  /** Rebuilds the view from the current configuration, once per task however many settings changed. */
  protected requestRemount(): void {
    if (this.#remountQueued) return;
    this.#remountQueued = true;
    queueMicrotask(() => {
      this.#remountQueued = false;
      if (this.isConnected) this.#settled = this.#mount();
    });
  }

  compute(encoder: GPUCommandEncoder, info: FrameInfo): void {
    this.#mounted?.compute?.(encoder, info);
  }

  /** Frame-loop hook: records the mounted view's render work and counts the frame in `framesDrawn`. */
  render(encoder: GPUCommandEncoder, info: FrameInfo): void {
    this.#mounted?.render?.(encoder, info);
    this.framesDrawn += 1;
  }

  deviceReplaced(host: ElementHost): void {
    this.#host = host;
    if (this.isConnected) this.#settled = this.#mount();
  }

  failed(error: unknown): void {
    // Work in flight on a lost device fails too; the host is already making a new one and will rebuild us.
    if (replacingDevice() && this.#host?.engine.lostReason != null) return;
    this.#unmount();
    this.#showError(error);
  }

  async #mount(): Promise<void> {
    this.#unmount();
    const abort = (this.#abort = new AbortController());
    this.state = 'mounting';
    this.#clearStatus();
    try {
      const host = (this.#host = await joinHost(this));
      if (abort.signal.aborted) return;
      const canvas = document.createElement('canvas');
      this.#stage.replaceChildren(canvas);
      const mounted = await this.mountView({ engine: host.engine, canvas, stage: this.#stage, signal: abort.signal });
      if (abort.signal.aborted) return void mounted.destroy();
      this.#mounted = mounted;
      this.generation = host.generation;
      this.state = 'ready';
      activityChanged();
      this.dispatchEvent(new CustomEvent('glassbox-ready', { detail: { generation: host.generation } }));
    } catch (error) {
      if (!abort.signal.aborted) this.#showError(error);
    }
  }

  #unmount(): void {
    this.#abort?.abort();
    this.#abort = null;
    const mounted = this.#mounted;
    this.#mounted = null;
    mounted?.destroy();
    this.#stage.replaceChildren();
  }

  #showError(error: unknown): void {
    this.state = 'error';
    activityChanged();
    this.#report(error);
  }

  /** Says what went wrong on the element and in a 'glassbox-error' event; the state is the caller's. */
  #report(error: unknown): void {
    this.error = error instanceof Error ? error.message : String(error);
    this.#status.textContent = this.error;
    this.#status.hidden = false;
    this.dispatchEvent(new CustomEvent('glassbox-error', { detail: { message: this.error } }));
  }

  #clearStatus(): void {
    this.error = null;
    this.#status.textContent = '';
    this.#status.hidden = true;
  }
}
