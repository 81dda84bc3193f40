import { configDefaults, defineConfig } from 'vitest/config';
import fast, { SLOW_TESTS } from './vitest.config.js';

/** `npm run test:slow`: only the tests `npm test` leaves out, with room for minutes each. */
export default defineConfig({
  test: {
    ...fast.test,
    include: SLOW_TESTS,
    exclude: configDefaults.exclude,
    testTimeout: 600_000,
  },
});
