import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts', 'test/iam-recording.ts'],
    // Packages the service (cached) for the IAM evaluation of every call the tests make.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // The package test shells out to the framework; the rest is in-process.
    pool: 'forks',
    reporters: ['default'],
  },
});
