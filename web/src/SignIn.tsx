/** Logging in, or registering then logging in, when the server requires logins. */
import { login, register } from '@luna-narrates/sdk';
import { type FormEvent, useState } from 'react';

import { errorMessage } from './errors';
import { setToken } from './session';

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      if (mode === 'register') await register({ body: { username, password } });
      const signed = await login({ body: { username, password } });
      setToken(signed.data!.access_token);
      onSignedIn();
    } catch (error) {
      setFailure(errorMessage(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="sign-in">
      <h1 id="sign-in">{mode === 'login' ? 'Log in' : 'Create an account'}</h1>
      <form onSubmit={submit} className="stack">
        <label>
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" required />
        </label>
        <label>
          Password
          <input
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            required
          />
        </label>
        {failure && (
          <p role="alert" className="error">
            {failure}
          </p>
        )}
        <div className="pager">
          <button type="submit" disabled={busy}>
            {mode === 'login' ? 'Log in' : 'Register'}
          </button>
          <button type="button" className="quiet" onClick={() => setMode(mode === 'login' ? 'register' : 'login')}>
            {mode === 'login' ? 'New here? Register' : 'Have an account? Log in'}
          </button>
        </div>
      </form>
    </section>
  );
}
