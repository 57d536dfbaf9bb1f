import { defineConfig } from 'vitest/config';
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each oracle comparison runs QEMU and a Salus process; more than two at once only thrashes two cores.
    maxConcurrency: 2,
  },
});
