// Uniform buffers whose layout is read from the WGSL struct itself, so offsets are written down once.
// Supported members are 4-byte scalars (u32, i32, f32), which is all our parameter structs use.
import type { Engine } from '../core/engine';
import { InvalidArgumentError } from '../core/errors';

type ScalarType = 'u32' | 'i32' | 'f32';

export interface UniformLayout {
  readonly struct: string;
  readonly byteLength: number;
  readonly fields: ReadonlyMap<string, { offset: number; type: ScalarType }>;
}

/** Reads `struct <name> { a: u32, b: f32, ... }` from WGSL source. */
export function uniformLayout(wgsl: string, struct: string): UniformLayout {
  const withoutComments = wgsl.replace(/\/\/[^\n]*/g, '');
  const body = new RegExp(`struct\\s+${struct}\\s*\\{([^}]*)\\}`).exec(withoutComments)?.[1];
  if (body === undefined) throw new InvalidArgumentError(`uniformLayout: no struct ${struct} in the WGSL source.`);
  const fields = new Map<string, { offset: number; type: ScalarType }>();
  for (const member of body.split(',').map((text) => text.trim()).filter(Boolean)) {
    const match = /^(\w+)\s*:\s*(\w+)$/.exec(member);
    const type = match?.[2];
    if (!match || (type !== 'u32' && type !== 'i32' && type !== 'f32')) {
      throw new InvalidArgumentError(`uniformLayout: ${struct} member '${member}' is not a u32, i32 or f32 scalar.`);
    }
    fields.set(match[1]!, { offset: fields.size * 4, type });
  }
  return { struct, byteLength: Math.ceil((fields.size * 4) / 16) * 16, fields };
}

/** A uniform buffer for one struct, written from a plain object with every field named. */
export class UniformBuffer {
  readonly buffer: GPUBuffer;
  readonly #layout: UniformLayout;
  readonly #data: ArrayBuffer;
  readonly #view: DataView;
  readonly #device: GPUDevice;

  constructor(engine: Engine, layout: UniformLayout, label: string) {
    this.#layout = layout;
    this.#device = engine.device;
    this.#data = new ArrayBuffer(layout.byteLength);
    this.#view = new DataView(this.#data);
    this.buffer = engine.createBuffer({
      label,
      size: layout.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /** Writes every field; a missing or unknown name is a bug in the caller and throws. */
  write(values: Readonly<Record<string, number>>): void {
    const { fields, struct } = this.#layout;
    for (const name of Object.keys(values)) {
      if (!fields.has(name)) throw new InvalidArgumentError(`${struct} has no field '${name}'.`);
    }
    for (const [name, { offset, type }] of fields) {
      const value = values[name];
      if (value === undefined) throw new InvalidArgumentError(`${struct}.${name} was not given.`);
      if (type === 'f32') this.#view.setFloat32(offset, value, true);
      else if (type === 'u32') this.#view.setUint32(offset, value, true);
      else this.#view.setInt32(offset, value, true);
    }
    this.#device.queue.writeBuffer(this.buffer, 0, this.#data);
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
