/** The frame: hash routes (`#/`, `#/stories/<id>`, `#/characters`, `#/lore`, `#/costs[/<id>]`,
 * `#/settings`), the dark/light toggle, and signing in when the server requires logins
 * (`GET /auth/me` answers 401). */
import { logout, me } from '@luna-narrates/sdk';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { Characters } from './Characters';
import { Costs } from './Costs';
import { errorMessage, needsLogin } from './errors';
import { Library } from './Library';
import { Lore } from './Lore';
import { currentToken, setToken } from './session';
import { Settings } from './Settings';
import { SignIn } from './SignIn';
import { Story } from './Story';

export type Route =
  | { screen: 'library' }
  | { screen: 'story'; storyId: string }
  | { screen: 'characters' }
  | { screen: 'lore' }
  | { screen: 'costs'; storyId?: string }
  | { screen: 'settings' };

export function parseRoute(hash: string): Route {
  const [screen, id] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (screen === 'stories' && id) return { screen: 'story', storyId: id };
  if (screen === 'costs') return id ? { screen: 'costs', storyId: id } : { screen: 'costs' };
  if (screen === 'characters' || screen === 'lore' || screen === 'settings') return { screen };
  return { screen: 'library' };
}

const SCREENS = [
  ['library', '#/', 'Stories'],
  ['characters', '#/characters', 'Characters'],
  ['lore', '#/lore', 'Worlds & lore'],
  ['costs', '#/costs', 'Costs'],
  ['settings', '#/settings', 'Settings'],
] as const;

function Screen({ route }: { route: Route }) {
  switch (route.screen) {
    case 'story':
      return <Story key={route.storyId} storyId={route.storyId} />;
    case 'characters':
      return <Characters />;
    case 'lore':
      return <Lore />;
    case 'costs':
      return <Costs key={route.storyId ?? ''} storyId={route.storyId} />;
    case 'settings':
      return <Settings />;
    default:
      return <Library />;
  }
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
        {who.data && (
          <nav className="nav" aria-label="Screens">
            {SCREENS.map(([screen, href, label]) => (
              <a
                key={screen}
                href={href}
                aria-current={(route.screen === 'story' ? 'library' : route.screen) === screen ? 'page' : undefined}
              >
                {label}
              </a>
            ))}
          </nav>
        )}
        <div className="actions">
          <button type="button" className="quiet" onClick={() => setTheme(other)}>
            {other === 'light' ? 'Light mode' : 'Dark mode'}
          </button>
          {currentToken() && who.data && (
            <button type="button" className="quiet" onClick={() => void signOut()}>
              Log out {who.data.username}
            </button>
          )}
        </div>
      </header>
      <main>
        {who.isPending && <p className="muted">Connecting…</p>}
        {signedOut && <SignIn onSignedIn={() => void queryClient.invalidateQueries()} />}
        {who.error && !signedOut && (
          <p role="alert" className="error">
            {errorMessage(who.error)}
          </p>
        )}
        {who.data && <Screen route={route} />}
      </main>
    </>
  );
}
