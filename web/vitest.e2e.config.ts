// The end-to-end tests (e2e/): Debian's Chromium, driven by playwright-core, against a real
// server (LUNA_URL; tests/web/test_e2e_browser.py starts one on the test models and runs them).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
