/**
 * The signed-in player's access token, kept in localStorage and sent by the SDK as
 * `Authorization: Bearer …` (and by `streamTurn` as `accessToken`). In single-player mode the
 * server needs none, and there is none.
 */
import { client } from '@luna-narrates/sdk';

const KEY = 'luna-token';

export function currentToken(): string | undefined {
  return localStorage.getItem(KEY) ?? undefined;
}

export function setToken(token: string | undefined): void {
  if (token) localStorage.setItem(KEY, token);
  else localStorage.removeItem(KEY);
  client.setConfig({ headers: { Authorization: token ? `Bearer ${token}` : null } });
}
