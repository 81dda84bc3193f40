import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Minutes of file-system work and long races: `npm run test:slow` (vitest.slow.config.ts), which CI
 * runs after `npm test`. A slow test goes under test/slow/ or is named *.slow.test.ts.
 */
export const SLOW_TESTS = ['test/slow/**/*.test.ts', 'test/**/*.slow.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...SLOW_TESTS],
    // For hangs, not speed: with two files at a time on a shared 2-core machine, the 20-command
    // change-control workflow took 11 s alone, 24 s and once over 30 s at a load of 10.
    testTimeout: 90_000,
    hookTimeout: 30_000,
    // Most tests wait on a CLI process, a loopback server or a registry they started: with two
    // workers a 2-core machine ran at 115% CPU (195 s); four files at a time took 124 s.
    maxWorkers: Math.max(4, availableParallelism()),
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
