// How many maps per row make the whole grid's shape closest to its canvas's: a wide canvas gets wide rows.
import { featureGridLayout, type GridLayerShape } from './grid-layout';

const CANDIDATES = [8, 16, 24, 32, 48, 64, 96, 128, 192, 256];

/** The column count whose whole-network layout is closest in aspect ratio (width / height) to `aspect`. */
export function columnsToFill(layers: readonly GridLayerShape[], aspect: number): number {
  const misfit = (columns: number) => {
    const { width, height } = featureGridLayout(layers, { columns }).bounds;
    return Math.abs(Math.log(width / height / aspect));
  };
  return CANDIDATES.reduce((best, c) => (misfit(c) < misfit(best) ? c : best));
}

/** Names without the prefix they all share up to a '/' (a GraphModel's long scopes), for labels. */
export function withoutCommonScope(names: readonly string[]): string[] {
  if (names.length < 2) return names.map((name) => name.slice(name.lastIndexOf('/') + 1) || name);
  let prefix = names[0]!.slice(0, names[0]!.lastIndexOf('/') + 1);
  while (prefix && !names.every((name) => name.startsWith(prefix))) prefix = prefix.slice(0, prefix.slice(0, -1).lastIndexOf('/') + 1);
  return names.map((name) => name.slice(prefix.length) || name);
}
