import { defineConfig } from '@hey-api/openapi-ts';

// The schema is the server's own (`make sdk` writes it); nothing here is written by hand.
export default defineConfig({
  input: './openapi.json',
  output: { path: './src/client' },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
});
