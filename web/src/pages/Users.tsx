/** Users of the account: create, deactivate and reactivate, reset a password (native `/v1/accounts/{id}/users`). */
import { useCallback, useState, type FormEvent } from 'react';
import { api, ApiError, type FieldErrors, type Session, type User } from '../api';
import { param, setParams } from '../app';
import { formatDay } from '../format';
import { Button, ConfirmDialog, Dialog, EmptyState, Field, FormActions, FormError, Loading, MoreMenu, Pager, SearchBox, useAsync, useToast } from '../ui';
import { ScrollRegion } from './ApiKeys';
import { showSubmitError } from '../errors';

const PAGE_SIZE = 20;

type Modal = { kind: 'create' } | { kind: 'password'; user: User } | { kind: 'deactivate'; user: User };

export function Users({ session }: { session: Session }) {
  const pageIndex = Math.max(0, (Number(param('page')) || 1) - 1);
  const [search, setSearch] = useState('');
  const [version, setVersion] = useState(0);
  const [modal, setModal] = useState<Modal | null>(null);
  const toast = useToast();
  const list = useAsync(() => api.users(session.accountId, { pageIndex, pageSize: PAGE_SIZE, ...(search ? { search } : {}) }), [session.accountId, pageIndex, search, version]);
  const onSearch = useCallback((s: string) => {
    setSearch(s);
    setParams({ page: null });
  }, []);
  const refresh = () => setVersion((v) => v + 1);
  const close = () => setModal(null);
  const total = list.data?.total ?? 0;
  return (
    <div className="page">
      <p className="breadcrumb">Access Control</p>
      <section className="panel" aria-labelledby="users-heading">
        <div className="panel-head">
          <h1 id="users-heading">Users</h1>
          <div className="panel-tools">
            <SearchBox label="Search users" value={search} onChange={onSearch} />
            <Button id="add-user" variant="primary" onClick={() => setModal({ kind: 'create' })}>
              + New User
            </Button>
          </div>
        </div>
        <p className="page-note">People who sign in to this account. A deactivated user cannot sign in, and their tokens stop working at once.</p>
        <Loading loading={list.loading && !list.data} label="Loading users…" />
        {list.error && <FormError error={list.error.message} />}
        {list.data && list.data.items.length === 0 && <EmptyState title={search ? `No user matches “${search}”.` : 'No users'} />}
        {list.data && list.data.items.length > 0 && (
          <ScrollRegion label="Users">
            <table className="table" aria-label="Users">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Status</th>
                  <th scope="col">Sign-in</th>
                  <th scope="col">Since</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((u) => (
                  <tr key={u.id} data-user={u.email}>
                    <td data-label="User">
                      <div className="token-name">{u.name || u.email}</div>
                      <div className="muted small">{u.email}</div>
                      <div className="muted mono small">{u.id}</div>
                    </td>
                    <td data-label="Status">
                      <span className={`badge ${u.active ? 'badge-active' : 'badge-expired'}`}>{u.active ? 'Active' : 'Deactivated'}</span>
                      {u.id === session.principal.id && <span className="badge badge-role">You</span>}
                    </td>
                    <td data-label="Sign-in">{u.hasPassword ? 'Password' : <span className="muted">No password (token only)</span>}</td>
                    <td data-label="Since">{formatDay(u.createdAt)}</td>
                    <td className="cell-actions">
                      <MoreMenu
                        id={`user-menu-${u.id}`}
                        label={`More options for user ${u.email}`}
                        items={[
                          { label: u.hasPassword ? 'Reset password' : 'Set a password', onSelect: () => setModal({ kind: 'password', user: u }) },
                          u.active
                            ? { label: 'Deactivate', danger: true, onSelect: () => setModal({ kind: 'deactivate', user: u }) }
                            : {
                                label: 'Reactivate',
                                onSelect: () =>
                                  void api.setUserActive(session.accountId, u.id, true).then(
                                    () => {
                                      toast(`${u.email} is active again.`);
                                      refresh();
                                    },
                                    (e: unknown) => toast(e instanceof Error ? e.message : String(e)),
                                  ),
                              },
                        ]}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
        {list.data && (
          <Pager noun="users" pageIndex={pageIndex} totalPages={Math.ceil(total / PAGE_SIZE)} totalItems={total} onPage={(i) => setParams({ page: i > 0 ? String(i + 1) : null })} />
        )}
      </section>
      {modal?.kind === 'create' && (
        <UserDialog
          accountId={session.accountId}
          onClose={close}
          onSaved={(u) => {
            close();
            toast(`User ${u.email} created.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'password' && (
        <PasswordDialog
          accountId={session.accountId}
          user={modal.user}
          onClose={close}
          onSaved={() => {
            close();
            toast(`Password of ${modal.user.email} set.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'deactivate' && (
        <ConfirmDialog
          title={`Deactivate ${modal.user.email}?`}
          message={
            <p>
              <strong>{modal.user.email}</strong> can no longer sign in, their console sessions end, and <strong>every token of their personal API keys stops working at once</strong>.
              You can reactivate them later.
            </p>
          }
          confirmLabel="Deactivate user"
          onClose={close}
          onConfirm={async () => {
            await api.setUserActive(session.accountId, modal.user.id, false);
            toast(`${modal.user.email} deactivated.`);
            refresh();
          }}
        />
      )}
    </div>
  );
}

function passwordProblem(p: string): string | null {
  if (p.length < 8) return 'Use at least 8 characters.';
  if (p.length > 256) return 'Use at most 256 characters.';
  return null;
}

function UserDialog({ accountId, onClose, onSaved }: { accountId: string; onClose: () => void; onSaved: (u: User) => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: FieldErrors = {};
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) local.email = 'Enter an email address, such as dana@example.com.';
    if (password) {
      const p = passwordProblem(password);
      if (p) local.password = p;
    }
    setFields(local);
    setError(null);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      onSaved(await api.createUser(accountId, { email: email.trim(), name: name.trim(), ...(password ? { password } : {}) }));
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(String(err), 0, '');
      if (ae.status === 409) setFields({ email: `A user with the email ${email.trim()} already exists.` });
      else if (Object.keys(ae.fields).length > 0) setFields(ae.fields);
      else setError(ae.message);
      setBusy(false);
    }
  };
  return (
    <Dialog title="New user" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <Field label="Email" error={fields.email}>
          {(a) => <input {...a} type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" data-autofocus />}
        </Field>
        <Field label="Name" optional error={fields.name}>
          {(a) => <input {...a} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />}
        </Field>
        <Field label="Password" optional error={fields.password} hint="8 to 256 characters. Without one, the user signs in with a personal access token.">
          {(a) => <input {...a} type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />}
        </Field>
        <FormActions error={error} busy={busy} submitLabel="Create user" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function PasswordDialog({ accountId, user, onClose, onSaved }: { accountId: string; user: User; onClose: () => void; onSaved: () => void }) {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: FieldErrors = {};
    const p = passwordProblem(password);
    if (p) local.password = p;
    else if (again !== password) local.again = 'The two passwords differ.';
    setFields(local);
    setError(null);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      await api.setPassword(accountId, user.id, password);
      onSaved();
    } catch (err) {
      showSubmitError(err, setFields, setError);
      setBusy(false);
    }
  };
  return (
    <Dialog title={`${user.hasPassword ? 'Reset the password of' : 'Set a password for'} ${user.email}`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <Field label="New password" error={fields.password} hint="8 to 256 characters. Tell the user through a channel you trust.">
          {(a) => <input {...a} type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />}
        </Field>
        <Field label="New password again" error={fields.again}>
          {(a) => <input {...a} type="password" value={again} onChange={(e) => setAgain(e.target.value)} autoComplete="new-password" />}
        </Field>
        <FormActions error={error} busy={busy} submitLabel="Set password" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
