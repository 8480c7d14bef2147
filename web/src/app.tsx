/** The console's shell: session, navigation, the scope switcher, and the pages. */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { api, onSessionEnded, type Scope, type Session } from './api';
import { Login } from './pages/Login';
import { MyApiKeys } from './pages/MyApiKeys';
import { ServiceAccountDetail, ServiceAccounts } from './pages/ServiceAccounts';
import { AuditLog } from './pages/Audit';
import { OrganizationDetail, Organizations } from './pages/Organizations';
import { UserGroupDetail, UserGroups } from './pages/UserGroups';
import { Users } from './pages/Users';
import { Policies } from './pages/Policies';
import { Loading, ProgressBar, ToastHost, useAsync } from './ui';

// ---- a small router over the History API --------------------------------------------------------

export interface Location {
  path: string;
  params: URLSearchParams;
}

function current(): Location {
  return { path: window.location.pathname, params: new URLSearchParams(window.location.search) };
}

let setLocationGlobal: ((l: Location) => void) | null = null;

export function navigate(path: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  setLocationGlobal?.(current());
}

/** The current query string's value of `name`. */
export function param(name: string): string | null {
  return new URLSearchParams(window.location.search).get(name);
}

/** Sets (or, with null or '', removes) query parameters of the current page, keeping the others. */
export function setParams(updates: Record<string, string | null>, replace = false): void {
  const q = new URLSearchParams(window.location.search);
  for (const [k, v] of Object.entries(updates)) {
    if (v === null || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  navigate(`${window.location.pathname}${s ? `?${s}` : ''}`, replace);
}

/** A link that routes in the page, and still opens in a new tab with a modifier key. */
export function Link({ to, children, className, current: isCurrent }: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  return (
    <a
      href={to}
      className={className}
      aria-current={isCurrent ? 'page' : undefined}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** `path` with the scope kept in the query (?org=&project=), so every page and link follows it. */
export function withScope(path: string, scope: Scope): string {
  const q = new URLSearchParams();
  if (scope.org) q.set('org', scope.org);
  if (scope.org && scope.project) q.set('project', scope.project);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// ---- the app --------------------------------------------------------------------------------------

export function App() {
  const [loc, setLoc] = useState<Location>(current);
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    setLocationGlobal = setLoc;
    const onPop = () => setLoc(current());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    api.session().then(
      (s) => setSession(s),
      () => setSession(null),
    );
    onSessionEnded(() => {
      setSession(null);
      setNotice('Your session has ended. Sign in again to continue.');
    });
  }, []);

  // End the session in the page when it expires, without waiting for the next request to fail.
  useEffect(() => {
    if (!session) return;
    const ms = session.expiresIn * 1000;
    if (ms > 2 ** 31 - 1) return;
    const t = setTimeout(() => {
      setSession(null);
      setNotice('Your session has expired. Sign in again to continue.');
    }, Math.max(0, ms));
    return () => clearTimeout(t);
  }, [session]);

  const signOut = useCallback(async () => {
    await api.signOut().catch(() => undefined);
    setSession(null);
    setNotice('You are signed out.');
    navigate('/login', true);
  }, []);

  if (session === undefined) {
    return (
      <div className="boot">
        <Loading loading label="Opening the console…" />
      </div>
    );
  }
  if (session === null) {
    return (
      <ToastHost>
        <ProgressBar />
        <Login
          notice={notice}
          onSignedIn={(s) => {
            setNotice(null);
            setSession(s);
            if (loc.path === '/login' || loc.path === '/') navigate('/keys', true);
          }}
        />
      </ToastHost>
    );
  }
  return (
    <ToastHost>
      <ProgressBar />
      <Shell session={session} loc={loc} onSignOut={signOut} />
    </ToastHost>
  );
}

const NAV = [
  { path: '/keys', label: 'My API Keys' },
  { path: '/service-accounts', label: 'Service Accounts' },
  { path: '/user-groups', label: 'User Groups' },
  { path: '/users', label: 'Users' },
  { path: '/organizations', label: 'Organizations' },
  { path: '/policies', label: 'Policies' },
  { path: '/audit', label: 'Audit Log' },
];

function Shell({ session, loc, onSignOut }: { session: Session; loc: Location; onSignOut: () => void }) {
  const scope: Scope = { accountId: session.accountId, org: loc.params.get('org') || null, project: (loc.params.get('org') && loc.params.get('project')) || null };
  const [menuOpen, setMenuOpen] = useState(false);
  const path = loc.path === '/' || loc.path === '/login' ? '/keys' : loc.path;
  useEffect(() => {
    if (loc.path === '/' || loc.path === '/login') navigate(withScope('/keys', scope), true);
    setMenuOpen(false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loc.path]);

  let page: ReactNode;
  const saMatch = /^\/service-accounts\/([^/]+)$/.exec(path);
  const ugMatch = /^\/user-groups\/([^/]+)$/.exec(path);
  const orgMatch = /^\/organizations\/([^/]+)$/.exec(path);
  if (path === '/keys') page = <MyApiKeys session={session} />;
  else if (path === '/service-accounts') page = <ServiceAccounts scope={scope} />;
  else if (saMatch) page = <ServiceAccountDetail scope={scope} identifier={decodeURIComponent(saMatch[1]!)} />;
  else if (path === '/audit') page = <AuditLog session={session} scope={scope} />;
  else if (path === '/users') page = <Users session={session} />;
  else if (path === '/policies') page = <Policies scope={scope} />;
  else if (path === '/user-groups') page = <UserGroups scope={scope} />;
  else if (ugMatch) page = <UserGroupDetail session={session} scope={scope} identifier={decodeURIComponent(ugMatch[1]!)} />;
  else if (path === '/organizations') page = <Organizations scope={scope} />;
  else if (orgMatch) page = <OrganizationDetail scope={scope} identifier={decodeURIComponent(orgMatch[1]!)} />;
  else
    page = (
      <section className="page">
        <h1>Page not found</h1>
        <p>
          There is nothing at {path}. <Link to={withScope('/keys', scope)}>Go to My API Keys</Link>.
        </p>
      </section>
    );

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width="22" height="22" />
          <span>Keyward</span>
        </div>
        <button type="button" className="icon-btn nav-toggle" aria-expanded={menuOpen} aria-controls="primary-nav" aria-label="Menu" onClick={() => setMenuOpen((o) => !o)}>
          ☰
        </button>
        <nav id="primary-nav" className={`nav${menuOpen ? ' nav-open' : ''}`} aria-label="Primary">
          {NAV.map((n) => (
            <Link key={n.path} to={withScope(n.path, scope)} className="nav-link" current={path === n.path || path.startsWith(`${n.path}/`)}>
              {n.label}
            </Link>
          ))}
        </nav>
        <ScopeSwitcher scope={scope} path={path} />
        <div className="user">
          <span className="user-name" title={session.principal.email}>
            {session.principal.name || session.principal.email}
          </span>
          <button type="button" className="btn btn-ghost btn-small" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </div>
  );
}

function ScopeSwitcher({ scope, path }: { scope: Scope; path: string }) {
  const [changed, setChanged] = useState(0);
  useEffect(() => {
    // Organizations and projects made or removed on their page show here at once.
    const on = () => setChanged((n) => n + 1);
    window.addEventListener('keyward:scopes', on);
    return () => window.removeEventListener('keyward:scopes', on);
  }, []);
  const orgs = useAsync(() => api.organizations(scope.accountId), [scope.accountId, changed]);
  const projects = useAsync(() => (scope.org ? api.projects(scope.accountId, scope.org) : Promise.resolve(null)), [scope.accountId, scope.org, changed]);
  // A service account lives in one scope: switching scope leaves its page for the list.
  const base = path.startsWith('/service-accounts/') ? '/service-accounts' : path;
  const go = (org: string | null, project: string | null) => navigate(withScope(base, { accountId: scope.accountId, org, project }));
  return (
    <div className="scope" role="group" aria-label="Scope">
      <label className="scope-label" htmlFor="scope-org">
        Scope
      </label>
      <select id="scope-org" aria-label="Organization" value={scope.org ?? ''} onChange={(e) => go(e.target.value || null, null)}>
        <option value="">Account</option>
        {(orgs.data?.content ?? []).map((o) => (
          <option key={o.organization.identifier} value={o.organization.identifier}>
            Org: {o.organization.name}
          </option>
        ))}
      </select>
      <select aria-label="Project" value={scope.project ?? ''} disabled={!scope.org} onChange={(e) => go(scope.org, e.target.value || null)}>
        <option value="">{scope.org ? 'All of the organization' : 'No project'}</option>
        {(projects.data?.content ?? []).map((p) => (
          <option key={p.project.identifier} value={p.project.identifier}>
            Project: {p.project.name}
          </option>
        ))}
      </select>
    </div>
  );
}

export function scopeLabel(s: Scope): string {
  if (s.project) return `project ${s.project} in organization ${s.org}`;
  if (s.org) return `organization ${s.org}`;
  return 'the account';
}

export function scopeLevel(s: Scope): 'account' | 'organization' | 'project' {
  return s.project ? 'project' : s.org ? 'organization' : 'account';
}
