/** The web UI's entry: the SDK pointed at the page's own origin, then the app. */
import { client } from '@luna-narrates/sdk';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './App';
import { currentToken, setToken } from './session';
import './styles.css';

client.setConfig({ baseUrl: window.location.origin, throwOnError: true });
setToken(currentToken()); // a player signed in before

const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
