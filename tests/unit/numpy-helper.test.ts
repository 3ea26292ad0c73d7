// The numpy tests skip where numpy is missing, but never in CI: there a missing numpy fails the run.
import { describe, expect, it } from 'vitest';
import { hasNumpy } from '../helpers/numpy';

describe('hasNumpy', () => {
  it('is false for a python that does not exist, outside CI', () => {
    expect(hasNumpy({ python: '/nonexistent/python3', env: {} })).toBe(false);
  });

  it('throws for a python that does not exist, in CI', () => {
    expect(() => hasNumpy({ python: '/nonexistent/python3', env: { CI: 'true' } })).toThrow(
      'CI=true but /nonexistent/python3 cannot import numpy: .ci/run installs python3-numpy',
    );
  });

  it('is false for a program that runs but cannot import numpy (/bin/false stands in), outside CI', () => {
    expect(hasNumpy({ python: '/bin/false', env: {} })).toBe(false);
  });
});
