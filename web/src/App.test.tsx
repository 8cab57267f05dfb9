// Signing in against a fake of the server's HTTP API that requires logins (as with
// LUNA_AUTH=required): /auth/me answers 401 until the request carries the token /auth/login gave.
import { client } from '@luna-narrates/sdk';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';

import { App } from './App';
import { setToken } from './session';

const TOKEN = 'token-of-ila';

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const seen: { path: string; authorization: string | null; body?: string }[] = [];

async function server(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = input instanceof Request ? input : new Request(String(input), init);
  const path = new URL(request.url).pathname;
  const authorization = request.headers.get('Authorization');
  const body = request.method === 'POST' ? await request.text() : undefined;
  seen.push({ path, authorization, body });
  if (path === '/auth/login') {
    const { username, password } = JSON.parse(body!);
    if (username === 'ila' && password === 'lantern-over-the-canal') {
      return json({ access_token: TOKEN, token_type: 'bearer', expires_in: 3600 });
    }
    return json({ error: 'not_signed_in', message: 'The username or the password is wrong.' }, 401);
  }
  if (authorization !== `Bearer ${TOKEN}`) {
    return json({ error: 'not_signed_in', message: 'Log in first.' }, 401);
  }
  if (path === '/auth/me') return json({ id: 'u1', username: 'ila', is_admin: true });
  if (path === '/stories') return json({ items: [], total: 0, limit: 100, offset: 0 });
  if (path === '/worlds/templates') return json([]);
  return json({ error: 'not_found', message: 'No such route.' }, 404);
}

beforeEach(() => {
  seen.length = 0;
  localStorage.clear();
  vi.stubGlobal('fetch', vi.fn(server));
  client.setConfig({ baseUrl: window.location.origin, throwOnError: true, fetch: globalThis.fetch });
  setToken(undefined);
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderApp() {
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queries}>
      <App />
    </QueryClientProvider>,
  );
}

async function logIn(password: string) {
  fireEvent.change(await screen.findByLabelText('Username'), { target: { value: 'ila' } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
  fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
}

it('asks to log in, then sends the token with every call and shows the library', async () => {
  renderApp();
  await logIn('lantern-over-the-canal');

  expect(await screen.findByText('Your stories')).toBeTruthy();
  expect(screen.getByRole('button', { name: 'Log out ila' })).toBeTruthy();
  expect(localStorage.getItem('luna-token')).toBe(TOKEN);
  const after = seen.filter((call) => call.path === '/stories');
  expect(after.length).toBeGreaterThan(0);
  expect(after.every((call) => call.authorization === `Bearer ${TOKEN}`)).toBe(true);
});

it('says why a login failed', async () => {
  renderApp();
  await logIn('wrong');
  expect((await screen.findByRole('alert')).textContent).toBe('The username or the password is wrong.');
  expect(localStorage.getItem('luna-token')).toBeNull();
});
