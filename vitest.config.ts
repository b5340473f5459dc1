import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The golden-fixture and CLI tests run whole networks; give slow shared machines room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
