/** The frame: hash routes (`#/`, `#/stories/<id>`), the dark/light toggle, and signing in
 * when the server requires logins (`GET /auth/me` answers 401). */
import { logout, me } from '@luna-narrates/sdk';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { errorMessage, needsLogin } from './errors';
import { Library } from './Library';
import { currentToken, setToken } from './session';
import { SignIn } from './SignIn';
import { Story } from './Story';

export type Route = { screen: 'library' } | { screen: 'story'; storyId: string };

export function parseRoute(hash: string): Route {
  const match = /^#\/stories\/([^/]+)$/.exec(hash);
  return match ? { screen: 'story', storyId: decodeURIComponent(match[1]) } : { screen: 'library' };
}

type Theme = 'dark' | 'light';

export function App() {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  const [theme, setTheme] = useState<Theme>(() =>
    localStorage.getItem('luna-theme') === 'light' ? 'light' : 'dark',
  );

  useEffect(() => {
    const follow = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('luna-theme', theme);
  }, [theme]);

  const queryClient = useQueryClient();
  const who = useQuery({
    queryKey: ['me'],
    queryFn: async () => (await me({ throwOnError: true })).data,
  });
  const signedOut = needsLogin(who.error);
  async function signOut() {
    await logout().catch(() => undefined);
    setToken(undefined);
    queryClient.clear();
  }

  const other: Theme = theme === 'dark' ? 'light' : 'dark';
  return (
    <>
      <header className="bar">
        <a href="#/" className="brand">
          LUNA-Narrates
        </a>
        <button type="button" className="quiet" onClick={() => setTheme(other)}>
          {other === 'light' ? 'Light mode' : 'Dark mode'}
        </button>
        {currentToken() && who.data && (
          <button type="button" className="quiet" onClick={() => void signOut()}>
            Log out {who.data.username}
          </button>
        )}
      </header>
      <main>
        {who.isPending && <p className="muted">Connecting…</p>}
        {signedOut && <SignIn onSignedIn={() => void queryClient.invalidateQueries()} />}
        {who.error && !signedOut && (
          <p role="alert" className="error">
            {errorMessage(who.error)}
          </p>
        )}
        {who.data && (route.screen === 'story' ? <Story storyId={route.storyId} /> : <Library />)}
      </main>
    </>
  );
}
