import { defineConfig } from 'vitest/config';

// The JSON report feeds .ci/run's closing "N passed, N failed" line.
const json = process.env.IOTWATCH_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: json ? ['default', ['json', { outputFile: json }]] : ['default'],
    pool: 'forks',
  },
});
