// A bounded cache of computed tiles: a fixed number of slots in one GPU buffer (the atlas), handed out
// least-recently-used first. Tiles still being computed or drawn this frame are pinned and never evicted.

export class TileCache {
  readonly slotCount: number;
  readonly #slotOf = new Map<string, number>();
  readonly #keyOf: (string | null)[];
  /** Keys in least- to most-recently used order (a Map keeps insertion order; touching re-inserts). */
  readonly #recency = new Map<string, true>();
  readonly #pinned = new Set<string>();

  constructor(slotCount: number) {
    if (!Number.isInteger(slotCount) || slotCount < 1) throw new RangeError(`slotCount must be ≥ 1; got ${slotCount}`);
    this.slotCount = slotCount;
    this.#keyOf = new Array<string | null>(slotCount).fill(null);
  }

  /** The slot holding `key`, marking it most recently used; undefined when it is not cached. */
  get(key: string): number | undefined {
    const slot = this.#slotOf.get(key);
    if (slot !== undefined) this.#touch(key);
    return slot;
  }

  has(key: string): boolean {
    return this.#slotOf.has(key);
  }

  /** A slot for `key`: its own, a free one, or the least recently used unpinned one; null when all are pinned. */
  allocate(key: string): number | null {
    const own = this.get(key);
    if (own !== undefined) return own;
    let slot = this.#keyOf.indexOf(null);
    if (slot < 0) {
      const victim = [...this.#recency.keys()].find((candidate) => !this.#pinned.has(candidate));
      if (victim === undefined) return null;
      slot = this.#slotOf.get(victim)!;
      this.delete(victim);
    }
    this.#slotOf.set(key, slot);
    this.#keyOf[slot] = key;
    this.#touch(key);
    return slot;
  }

  delete(key: string): void {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return;
    this.#slotOf.delete(key);
    this.#recency.delete(key);
    this.#pinned.delete(key);
    this.#keyOf[slot] = null;
  }

  pin(key: string): void {
    if (this.#slotOf.has(key)) this.#pinned.add(key);
  }

  unpin(key: string): void {
    this.#pinned.delete(key);
  }

  clear(): void {
    for (const key of [...this.#slotOf.keys()]) this.delete(key);
  }

  get size(): number {
    return this.#slotOf.size;
  }

  #touch(key: string): void {
    this.#recency.delete(key);
    this.#recency.set(key, true);
  }
}
