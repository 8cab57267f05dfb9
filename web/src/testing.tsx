/** What the screens' tests share: a fake of the server's HTTP API answering every `fetch` (the
 * SDK's, the turn stream's and media.ts's), its answers shaped as the server's, and rendering
 * inside a TanStack Query provider. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { client } from '@luna-narrates/sdk';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { afterEach, beforeEach, vi } from 'vitest';

export type Server = (request: Request) => Promise<Response> | Response;

/** A JSON answer (the server's errors are `{error, message}` with a 4xx status). */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** A Server-Sent Events answer carrying `events` (name, data) in order. */
export function sse(events: [string, unknown][]): Response {
  const text = events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('');
  return new Response(text, { headers: { 'Content-Type': 'text/event-stream' } });
}

/** Before each test, `fetch` answers with `server`; after it, the page is emptied and the
 * globals a test replaced are back. */
export function fakeServer(server: Server): void {
  beforeEach(() => {
    vi.stubGlobal(
      'fetch',
      vi.fn((input: RequestInfo | URL, init?: RequestInit) =>
        server(input instanceof Request ? input : new Request(String(input), init)),
      ),
    );
    client.setConfig({ baseUrl: window.location.origin, throwOnError: true, fetch: globalThis.fetch });
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });
}

/** Renders `ui` with a query client of its own (no retries: a refusal shows at once). */
export function renderWithQueries(ui: ReactElement) {
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={queries}>{ui}</QueryClientProvider>);
}

/** A real file from another project in the shared fixtures (SillyTavern's Seraphina card, the
 * Eldoria world info): LUNA_FIXTURES (the pytest that runs these tests sets it), else ../shared
 * beside the repository, else the workplace's copy. */
export function fixture(name: string): Buffer {
  const places = [process.env.LUNA_FIXTURES, resolve(process.cwd(), '../../shared/fixtures'), '/work/shared/fixtures'];
  const found = places.find((place) => place && existsSync(resolve(place, 'sillytavern')));
  if (!found) throw new Error(`The shared fixtures are not in any of ${places.filter(Boolean).join(', ')}.`);
  return readFileSync(resolve(found, 'sillytavern', name));
}
