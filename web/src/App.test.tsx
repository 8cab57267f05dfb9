// Signing in against a fake of the server's HTTP API that requires logins (as with
// LUNA_AUTH=required): /auth/me answers 401 until the request carries the token /auth/login gave.
import { fireEvent, screen } from '@testing-library/react';
import { beforeEach, expect, it } from 'vitest';

import { App, parseRoute } from './App';
import { setToken } from './session';
import { fakeServer, json, renderWithQueries } from './testing';

const TOKEN = 'token-of-ila';


const seen: { path: string; authorization: string | null; body?: string }[] = [];

async function server(request: Request): Promise<Response> {
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

fakeServer(server);

beforeEach(() => {
  seen.length = 0;
  localStorage.clear();
  setToken(undefined);
});


function renderApp() {
  renderWithQueries(<App />);
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

it('reads every screen from the address, and the library for anything else', () => {
  expect(parseRoute('#/')).toEqual({ screen: 'library' });
  expect(parseRoute('')).toEqual({ screen: 'library' });
  expect(parseRoute('#/stories/abc')).toEqual({ screen: 'story', storyId: 'abc' });
  expect(parseRoute('#/characters')).toEqual({ screen: 'characters' });
  expect(parseRoute('#/lore')).toEqual({ screen: 'lore' });
  expect(parseRoute('#/costs')).toEqual({ screen: 'costs' });
  expect(parseRoute('#/costs/abc')).toEqual({ screen: 'costs', storyId: 'abc' });
  expect(parseRoute('#/settings')).toEqual({ screen: 'settings' });
  expect(parseRoute('#/nowhere')).toEqual({ screen: 'library' });
});

it('links every screen from the bar, the current one marked', async () => {
  window.location.hash = '#/';
  renderApp();
  await logIn('lantern-over-the-canal');
  const nav = await screen.findByRole('navigation', { name: 'Screens' });
  const links = [...nav.querySelectorAll('a')].map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('aria-current')]);
  expect(links).toEqual([
    ['Stories', '#/', 'page'],
    ['Characters', '#/characters', null],
    ['Worlds & lore', '#/lore', null],
    ['Costs', '#/costs', null],
    ['Settings', '#/settings', null],
  ]);
});
