// Debian's numpy, which the io tests exchange .npy files with. Where it is missing the numpy checks are
// skipped, except in CI (CI=true, set by .ci/run, which installs it): there a missing numpy is a broken
// install, and skipping would hide it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

/** Whether `python` imports numpy; throws in CI, where it must. */
export function hasNumpy({ python = PYTHON, env = process.env }: { python?: string; env?: Record<string, string | undefined> } = {}): boolean {
  const found = existsSync(python) && spawnSync(python, ['-c', 'import numpy'], { timeout: 30_000 }).status === 0;
  if (!found && env.CI === 'true') {
    throw new Error(`CI=true but ${python} cannot import numpy: .ci/run installs python3-numpy, and the numpy tests must not be skipped there.`);
  }
  return found;
}
