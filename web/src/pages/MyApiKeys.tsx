/** The signed-in user's profile: My API Keys. Personal keys are account-level only (as in Harness). */
import type { Session } from '../api';
import { ApiKeysPanel } from './ApiKeys';

export function MyApiKeys({ session }: { session: Session }) {
  const p = session.principal;
  return (
    <div className="page">
      <section className="profile" aria-label="Your profile">
        <div className="avatar" aria-hidden="true">
          {(p.name || p.email).slice(0, 1).toUpperCase()}
        </div>
        <div>
          <div className="profile-name">{p.name}</div>
          <div className="muted">{p.email}</div>
          <div className="muted small">
            Signed in with {session.method === 'token' ? 'a token' : 'your password'} · account <span className="mono">{session.accountId}</span>
          </div>
        </div>
      </section>
      <p className="page-note">
        Personal API keys belong to the account, whatever scope is selected above, and their tokens act with your permissions.
      </p>
      <ApiKeysPanel heading="My API Keys" owner={{ type: 'USER', parentIdentifier: p.id, scope: { accountId: session.accountId, org: null, project: null } }} />
    </div>
  );
}
