// Formatting of benchmark results for the terminal. The JSON file holds the unrounded numbers.

/** @typedef {Record<string, number | string | boolean>} Params */

/**
 * @typedef {object} CaseResult
 * @property {string} name
 * @property {Params} params
 * @property {number} ours_ms
 * @property {string} peer
 * @property {number} peer_ms
 * @property {number} ratio
 * @property {number} ours_bytes
 * @property {number} peer_bytes
 * @property {number | null} max_abs_err
 */

/** @param {Params} params */
export function paramsLabel(params) {
  return Object.entries(params)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

/**
 * One row per case, columns aligned; wall-clock medians (the cross-check) in the last two columns.
 * @param {CaseResult[]} cases
 * @param {{ ours_wall_ms: number, peer_wall_ms: number }[]} walls same order as `cases`
 * @returns {string}
 */
export function formatTable(cases, walls) {
  const header = ['name', 'params', 'ours ms', 'peer', 'peer ms', 'ratio', 'ours bytes', 'peer bytes', 'max abs err',
    'ours wall ms', 'peer wall ms'];
  const rows = cases.map((c, i) => [
    c.name,
    paramsLabel(c.params),
    formatMs(c.ours_ms),
    c.peer,
    formatMs(c.peer_ms),
    Number.isFinite(c.ratio) ? c.ratio.toFixed(2) : String(c.ratio),
    formatBytes(c.ours_bytes),
    formatBytes(c.peer_bytes),
    c.max_abs_err === null ? 'NaN/Inf' : c.max_abs_err.toExponential(2),
    formatMs(walls[i]?.ours_wall_ms ?? NaN),
    formatMs(walls[i]?.peer_wall_ms ?? NaN),
  ]);
  const textColumns = new Set([0, 1, 3]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (/** @type {string[]} */ cells) =>
    cells.map((cell, column) => (textColumns.has(column) ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** @param {number} ms */
function formatMs(ms) {
  if (!Number.isFinite(ms)) return String(ms);
  return ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3);
}

/** @param {number} bytes */
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
}
