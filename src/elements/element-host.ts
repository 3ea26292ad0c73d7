// The host every Glassbox element on a page shares: one engine (one GPUDevice, shared with tfjs) and one
// frame loop, so that five elements cost one device and record one command buffer per frame. The loop runs
// only while some element is on screen in a visible tab. When the device is lost (a driver reset, a GPU
// process crash, `device.destroy()` by someone else), the host makes a new engine and asks every element to
// rebuild on it: the page keeps working without a reload.
import { createEngine } from '../create-engine';
import type { Engine } from '../core/engine';
import { createFrameLoop, type FrameInfo, type FrameLoop } from '../core/frame-loop';
import { forgetTfjsBackendOn } from '../interop/tfjs/backend';

/** The engine and frame loop every Glassbox element on the page shares; replaced after a device loss. */
export interface ElementHost {
  readonly engine: Engine;
  readonly loop: FrameLoop;
  /** Counts devices: 0 for the first engine, +1 for each one made after a loss. */
  readonly generation: number;
}

/** What the host asks of each element. */
export interface HostMember {
  /** Whether the element is connected, on screen and in a visible tab: its frames are recorded only then. */
  readonly active: boolean;
  /** Records the element's frame work (compute, then render) into the shared frame's encoder. */
  compute?(encoder: GPUCommandEncoder, info: FrameInfo): void;
  render?(encoder: GPUCommandEncoder, info: FrameInfo): void;
  /**
   * The device was lost and `host` is its replacement: drop every GPU object of the old one (they are dead;
   * destroying them is harmless) and build again from the element's own configuration.
   */
  deviceReplaced(host: ElementHost, reason: string): void;
  /** The host failed (no WebGPU, or no new device after a loss), or the member's own frame work threw. */
  failed(error: unknown): void;
}

const members = new Set<HostMember>();
let pending: Promise<ElementHost> | null = null;
let current: ElementHost | null = null;
let generation = 0;
/** Set while the host destroys its own device, so that loss is not mistaken for a crash. */
let releasing = false;
/** Set from a device loss until the new host is ready (or failed): failures meanwhile are the old device's. */
let replacing = false;
/** Counts the times the last member left: a start still under way then belongs to no one. */
let emptied = 0;

/** Whether a lost device is being replaced right now: errors of work that ran on it are expected. */
export function replacingDevice(): boolean {
  return replacing;
}

/** Joins the shared host, creating its engine on the first call (or after the last member left). */
export function joinHost(member: HostMember): Promise<ElementHost> {
  // One listener for the page, held while there are members (each element adding the same function would
  // register it once, and the first element removed would take it away from the others).
  if (members.size === 0) document.addEventListener('visibilitychange', activityChanged);
  members.add(member);
  pending ??= startHost();
  return pending;
}

/** Leaves the host; the last member to leave destroys the engine and everything still on it. */
export function leaveHost(member: HostMember): void {
  if (!members.delete(member) || members.size > 0) return;
  document.removeEventListener('visibilitychange', activityChanged);
  emptied += 1;
  const host = current;
  pending = null;
  current = null;
  if (!host) return;
  host.loop.stop();
  release(host.engine);
}

/** Destroys an engine of the host's own, so that the loss of its device is not taken for a crash. */
function release(engine: Engine): void {
  releasing = true;
  try {
    engine.destroy();
  } finally {
    releasing = false;
  }
}

/** Starts the loop when some member is active, stops it when none is: elements call this when theirs changes. */
export function activityChanged(): void {
  if (!current) return;
  const anyActive = [...members].some((member) => member.active);
  if (anyActive) current.loop.start();
  else current.loop.stop();
}

/** The live host, if one has been made; for tests and for pages that want to add their own frame work. */
export function currentHost(): ElementHost | null {
  return current;
}

async function startHost(): Promise<ElementHost> {
  const started = emptied;
  const engine = await createEngine();
  if (started !== emptied) {
    // Every member left while the device was requested: nobody would destroy this engine.
    release(engine);
    throw new Error('Glassbox: every element was removed before the shared engine was ready.');
  }
  const loop = createFrameLoop(engine, `GlassboxElements#${generation}`);
  loop.add({
    compute: (encoder, info) => eachActive((member) => member.compute?.(encoder, info)),
    render: (encoder, info) => eachActive((member) => member.render?.(encoder, info)),
  });
  const host: ElementHost = { engine, loop, generation };
  void engine.device.lost.then((info) => {
    if (!releasing && current === host) void replaceLostDevice(host, `${info.reason || 'unknown'}: ${info.message}`);
  });
  current = host;
  activityChanged();
  return host;
}

/** One element's failure must not take the others' frames down: it is reported to that element alone. */
function eachActive(record: (member: HostMember) => void): void {
  for (const member of members) {
    if (!member.active) continue;
    try {
      record(member);
    } catch (error) {
      member.failed(error);
    }
  }
}

/** The old engine is dead: destroy it (removing tfjs's backend on its device), make a new one, rebuild all. */
async function replaceLostDevice(lost: ElementHost, reason: string): Promise<void> {
  replacing = true;
  lost.loop.stop();
  lost.engine.destroy();
  forgetTfjsBackendOn(lost.engine.device); // when tfjs made the device, the engine only adopted it
  current = null;
  generation += 1;
  const starting = startHost();
  pending = starting;
  try {
    const host = await starting;
    replacing = false;
    for (const member of [...members]) member.deviceReplaced(host, reason);
  } catch (error) {
    replacing = false;
    if (pending === starting) pending = null; // a member that joined since may have started another
    for (const member of [...members]) member.failed(error);
  }
}
