// How a filtered benchmark run folds into bench/results/latest.json: rows are replaced one by one (case
// name and params), so `--filter K=4096` refreshes that row and keeps the case's others.

/** @typedef {{ name: string, params: unknown }} Row */

/**
 * The earlier file's rows with this run's in their place (new rows after their case's earlier ones), in the
 * registry's case order, for the cases and for the environment's wall-clock cross-check; the environment is
 * this run's.
 * @template {Row} R
 * @param {{ env?: { wall_cross_check?: R[] }, cases?: R[] }} earlier
 * @param {{ env: Record<string, unknown> & { wall_cross_check?: R[] }, cases: R[] }} results
 * @param {string[]} caseOrder every case's name, in the registry's order
 * @returns {{ env: Record<string, unknown> & { wall_cross_check: R[] }, cases: R[] }}
 */
export function mergeResults(earlier, results, caseOrder) {
  const order = (/** @type {R} */ row) => {
    const at = caseOrder.indexOf(row.name);
    return at < 0 ? caseOrder.length : at;
  };
  const key = (/** @type {R} */ row) => `${row.name} ${JSON.stringify(row.params)}`;
  const merge = (/** @type {R[]} */ before, /** @type {R[]} */ now) => {
    const fresh = new Map(now.map((row) => [key(row), row]));
    const known = new Set(before.map(key));
    const rows = [...before.map((row) => fresh.get(key(row)) ?? row), ...now.filter((row) => !known.has(key(row)))];
    return rows.sort((a, b) => order(a) - order(b)); // stable: a case's rows keep their order
  };
  const walls = merge(earlier.env?.wall_cross_check ?? [], results.env.wall_cross_check ?? []);
  return { env: { ...results.env, wall_cross_check: walls }, cases: merge(earlier.cases ?? [], results.cases) };
}
