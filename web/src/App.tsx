/** The frame: hash routes (`#/`, `#/stories/<id>`) and the dark/light toggle. */
import { useEffect, useState } from 'react';

import { Library } from './Library';
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
      </header>
      <main>
        {route.screen === 'story' ? <Story storyId={route.storyId} /> : <Library />}
      </main>
    </>
  );
}
