// Where each image of a side-by-side view lands: the target is split into equal columns, and each image
// is scaled to fit its column (less the gaps) with its aspect ratio kept, centred. Target pixels; float.

export interface ImageRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * One rect per image (`sizes` in texels) on a width × height target, `gap` pixels between and around the
 * columns. Writes into `out` (reused across frames) and returns it; a target too small gives empty rects.
 */
export function imageLayout(
  sizes: readonly { readonly width: number; readonly height: number }[],
  width: number,
  height: number,
  gap: number,
  out: ImageRect[] = [],
): ImageRect[] {
  out.length = sizes.length;
  const column = (width - gap) / Math.max(sizes.length, 1);
  const [boxWidth, boxHeight] = [Math.max(column - gap, 0), Math.max(height - 2 * gap, 0)];
  sizes.forEach((size, i) => {
    const scale = Math.min(boxWidth / size.width, boxHeight / size.height);
    const rect = (out[i] ??= { left: 0, top: 0, width: 0, height: 0 });
    rect.width = size.width * scale;
    rect.height = size.height * scale;
    rect.left = gap + i * column + (boxWidth - rect.width) / 2;
    rect.top = (height - rect.height) / 2;
  });
  return out;
}
