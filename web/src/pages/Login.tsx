/** Sign in with email and password, or by pasting a personal access token. */
import { useState, type FormEvent } from 'react';
import { api, ApiError, type FieldErrors, type Session } from '../api';
import { Button, Field, FormError } from '../ui';

export function Login({ notice, onSignedIn }: { notice: string | null; onSignedIn: (s: Session) => void }) {
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldErrors>({});

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const missing: FieldErrors = {};
    if (mode === 'password') {
      if (!email.trim()) missing.email = 'Enter your email address.';
      if (!password) missing.password = 'Enter your password.';
    } else if (!token.trim()) missing.token = 'Paste a personal access token (it starts with pat.).';
    setFields(missing);
    setError(null);
    if (Object.keys(missing).length > 0) return;
    setBusy(true);
    try {
      // The token goes to the server once, in the body, and is then dropped: the session is a cookie.
      const s = await api.signIn(mode === 'password' ? { email: email.trim(), password } : { token: token.trim() });
      setPassword('');
      setToken('');
      onSignedIn(s);
    } catch (err) {
      const ae = err instanceof ApiError ? err : null;
      setFields(ae?.fields ?? {});
      setError(ae && Object.keys(ae.fields).length === 0 ? ae.message : ae ? null : 'Could not sign in.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <div className="login-card">
        <div className="brand brand-large">
          <img src="/favicon.svg" alt="" width="32" height="32" />
          <span>Keyward</span>
        </div>
        <h1>Sign in</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <div className="tabs" role="tablist" aria-label="How to sign in">
          {(['password', 'token'] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              id={`tab-${m}`}
              aria-selected={mode === m}
              aria-controls="signin-panel"
              tabIndex={mode === m ? 0 : -1}
              className={`tab${mode === m ? ' tab-on' : ''}`}
              onClick={() => {
                setMode(m);
                setError(null);
                setFields({});
              }}
              onKeyDown={(e) => {
                if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                  const next = m === 'password' ? 'token' : 'password';
                  setMode(next);
                  document.getElementById(`tab-${next}`)?.focus();
                }
              }}
            >
              {m === 'password' ? 'Email and password' : 'Token'}
            </button>
          ))}
        </div>
        <div id="signin-panel" role="tabpanel" aria-labelledby={`tab-${mode}`}>
        <form id="signin-form" onSubmit={submit} noValidate>
          {mode === 'password' ? (
            <>
              <Field label="Email" error={fields.email}>
                {(a) => <input {...a} type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />}
              </Field>
              <Field label="Password" error={fields.password}>
                {(a) => <input {...a} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
              </Field>
            </>
          ) : (
            <Field label="Personal access token" error={fields.token} hint="Paste a token that starts with pat. It is exchanged for a session and not kept by this page.">
              {(a) => <input {...a} type="password" className="mono" autoComplete="off" spellCheck={false} value={token} onChange={(e) => setToken(e.target.value)} autoFocus />}
            </Field>
          )}
          <FormError error={error} />
          <Button type="submit" variant="primary" busy={busy}>
            {mode === 'password' ? 'Sign in' : 'Sign in with token'}
          </Button>
        </form>
        </div>
      </div>
    </main>
  );
}
