// Prints one line of totals over every vitest suite (unit, gpu, e2e) from vitest's JSON report:
// `N passed, M failed` (`, K skipped` when any were skipped). A missing report means the run stopped
// before any test (the type check failed, or vitest crashed): that counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

const path = process.argv[2] ?? '.vitest-reports/results.json';
if (!existsSync(path)) {
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const report = JSON.parse(readFileSync(path, 'utf8'));
const failedSuites = report.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0);
const failed = report.numFailedTests + failedSuites.length;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
