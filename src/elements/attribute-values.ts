// Attribute values read and checked the same way by every element: a wrong value is an InvalidArgumentError
// that names the element, the attribute, what it takes and what it got.
import { InvalidArgumentError } from '../core/errors';
import { isColormapName, type ColormapName } from '../render/colormaps';

/** A number; `fallback` when the attribute is absent or empty. `min` bounds it from below. */
export function numberAttribute(element: Element, name: string, fallback: number, min = -Infinity): number {
  const text = element.getAttribute(name);
  if (text === null || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    throw new InvalidArgumentError(`<${tag(element)}>: ${name} must be a number${min > -Infinity ? ` ≥ ${min}` : ''}; got '${text}'.`);
  }
  return value;
}

/** An integer ≥ 0. */
export function indexAttribute(element: Element, name: string, fallback: number): number {
  const value = numberAttribute(element, name, fallback);
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(`<${tag(element)}>: ${name} must be an integer ≥ 0; got '${element.getAttribute(name)}'.`);
  return value;
}

/** One of a few words, e.g. pooling="max". */
export function choiceAttribute<T extends string>(element: Element, name: string, choices: readonly T[], fallback: T): T {
  const value = element.getAttribute(name) ?? fallback;
  if (!choices.includes(value as T)) {
    const list = `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
    throw new InvalidArgumentError(`<${tag(element)}>: ${name} is ${list}; got '${value}'.`);
  }
  return value as T;
}

/** A colormap name (default viridis). */
export function colormapAttribute(element: Element): ColormapName {
  const name = element.getAttribute('colormap') ?? 'viridis';
  if (!isColormapName(name)) throw new InvalidArgumentError(`<${tag(element)}>: unknown colormap '${name}'.`);
  return name;
}

/** "lo,hi" with lo < hi (default 0,1): the float range a model's input takes. */
export function rangeAttribute(element: Element, name: string): [number, number] {
  const text = element.getAttribute(name) ?? '0,1';
  const range = text.split(',').map(Number);
  if (range.length !== 2 || !range.every(Number.isFinite) || !(range[0]! < range[1]!)) {
    throw new InvalidArgumentError(`<${tag(element)}>: ${name} is "lo,hi" with lo < hi (e.g. "-1,1"); got '${text}'.`);
  }
  return range as [number, number];
}

/** A required URL-like attribute, or the error that says what else would do. */
export function requiredAttribute(element: Element, name: string, alternatives: string): string {
  const value = element.getAttribute(name);
  if (!value) throw new InvalidArgumentError(`<${tag(element)}>: expected ${alternatives}; got neither.`);
  return value;
}

function tag(element: Element): string {
  return element.tagName.toLowerCase();
}
