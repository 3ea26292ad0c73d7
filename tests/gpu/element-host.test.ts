// The elements' shared host with a stand-in engine (createEngine mocked, so that a start can be held open):
// a start still under way when the last element leaves destroys its own engine, and the element that
// joins next gets a fresh one; the page's visibility listener lives as long as the host has members.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../../src/core/engine';
import { createEngine } from '../../src/create-engine';
import { currentHost, joinHost, leaveHost, type HostMember } from '../../src/elements/element-host';

vi.mock('../../src/create-engine', () => ({ createEngine: vi.fn() }));

function standInEngine(): Engine & { destroy: ReturnType<typeof vi.fn> } {
  return { destroy: vi.fn(), lostReason: null, device: { lost: new Promise(() => {}) } } as unknown as Engine & { destroy: ReturnType<typeof vi.fn> };
}
const member = (): HostMember => ({ active: false, deviceReplaced: () => {}, failed: () => {} });

afterEach(() => vi.restoreAllMocks());

describe('element host', () => {
  it('a start under way when the last member leaves destroys its engine; the next member gets a new one', async () => {
    const [early, late] = [standInEngine(), standInEngine()];
    let finishEarly: (engine: Engine) => void = () => {};
    vi.mocked(createEngine)
      .mockImplementationOnce(() => new Promise<Engine>((resolve) => (finishEarly = resolve)))
      .mockResolvedValueOnce(late);
    const a = member();
    const first = joinHost(a);
    leaveHost(a); // before the device came
    const b = member();
    const second = joinHost(b);
    finishEarly(early);
    await expect(first).rejects.toThrow('Glassbox: every element was removed before the shared engine was ready.');
    expect(early.destroy).toHaveBeenCalledTimes(1);
    const host = await second;
    expect(host.engine).toBe(late);
    expect(currentHost()).toBe(host);
    leaveHost(b);
    expect(late.destroy).toHaveBeenCalledTimes(1);
    expect(currentHost()).toBeNull();
  });

  it('listens for visibilitychange once, from the first member joining to the last leaving', async () => {
    vi.mocked(createEngine).mockResolvedValue(standInEngine());
    const add = vi.spyOn(document, 'addEventListener');
    const remove = vi.spyOn(document, 'removeEventListener');
    const visibility = (spy: typeof add) => spy.mock.calls.filter(([type]) => type === 'visibilitychange').length;
    const [a, b] = [member(), member()];
    await joinHost(a);
    await joinHost(b);
    expect(visibility(add)).toBe(1);
    leaveHost(a);
    expect(visibility(remove)).toBe(0);
    leaveHost(b);
    expect(visibility(remove)).toBe(1);
  });
});
