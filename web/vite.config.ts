/// <reference types="vitest/config" />
// The web UI's build: the SDK is compiled from its source (sdk/typescript/src), and the app is
// written into the Python package (src/luna_narrates/web/), which serves it at `/`.
import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// The first segment of every API route (the server's OpenAPI paths), for the dev proxy.
const API_PATHS = [
  '/admin', '/assets', '/auth', '/character-cards', '/cost-analytics', '/docs', '/health',
  '/image-workers', '/images', '/lorebooks', '/metrics', '/narrate', '/narrates', '/openapi.json',
  '/pricing', '/providers', '/settings', '/stories', '/worlds',
];

export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: {
      '@luna-narrates/sdk': here('../sdk/typescript/src/index.ts'),
      // The SDK's one dependency, from this app's node_modules (the SDK's may not be installed).
      'eventsource-parser': here('node_modules/eventsource-parser'),
    },
  },
  // `npm run dev`: Vite serves the app and sends the API's paths to the server
  // (LUNA_API, by default the one `make run` starts).
  server: {
    proxy: Object.fromEntries(
      API_PATHS.map((path) => [path, { target: process.env.LUNA_API ?? 'http://127.0.0.1:8001' }]),
    ),
  },
  build: {
    outDir: here('../src/luna_narrates/web'),
    emptyOutDir: true,
    // Not Vite's default `assets/`: /assets is the API's (asset collections).
    assetsDir: 'ui',
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['src/testSetup.ts'],
  },
});
