/** Access Control > Service Accounts: list, create, edit, delete; one account's roles, keys and tokens. */
import { useCallback, useState, type FormEvent } from 'react';
import { api, ApiError, type FieldErrors, type Scope, type ServiceAccount } from '../api';
import { Link, navigate, scopeLabel, scopeLevel, withScope } from '../app';
import { parseTags } from '../format';
import { Button, ConfirmDialog, Dialog, EmptyState, Field, FormActions, FormError, Loading, MoreMenu, Pager, SearchBox, useAsync, useToast } from '../ui';
import { ApiKeysPanel, localProblems, NamedFields, Tags, useNamedForm } from './ApiKeys';

const PAGE_SIZE = 20;

type Modal = { kind: 'create' } | { kind: 'edit'; sa: ServiceAccount } | { kind: 'delete'; sa: ServiceAccount };

export function ServiceAccounts({ scope }: { scope: Scope }) {
  const [pageIndex, setPageIndex] = useState(0);
  const [search, setSearch] = useState('');
  const [version, setVersion] = useState(0);
  const [modal, setModal] = useState<Modal | null>(null);
  const toast = useToast();
  const list = useAsync(() => api.listServiceAccounts(scope, { pageIndex, pageSize: PAGE_SIZE, searchTerm: search }), [scope.org, scope.project, pageIndex, search, version]);
  const onSearch = useCallback((s: string) => {
    setSearch(s);
    setPageIndex(0);
  }, []);
  const close = () => setModal(null);
  const refresh = () => setVersion((v) => v + 1);

  return (
    <div className="page">
      <p className="breadcrumb">Access Control</p>
      <section className="panel" aria-labelledby="sa-heading">
        <div className="panel-head">
          <h1 id="sa-heading">Service Accounts</h1>
          <div className="panel-tools">
            <SearchBox label="Search service accounts" value={search} onChange={onSearch} />
            <Button variant="primary" onClick={() => setModal({ kind: 'create' })}>
              + New Service Account
            </Button>
          </div>
        </div>
        <p className="page-note">Showing service accounts of {scopeLabel(scope)}. Change the scope at the top to see others.</p>
        <Loading loading={list.loading && !list.data} label="Loading service accounts…" />
        {list.error && <FormError error={list.error.message} />}
        {list.data && list.data.content.length === 0 &&
          (search ? (
            <EmptyState title={`No service account matches “${search}”.`}>Clear the search to see every service account here.</EmptyState>
          ) : (
            <EmptyState title={`No service accounts in ${scopeLabel(scope)}`} action={<Button variant="primary" onClick={() => setModal({ kind: 'create' })}>Create a service account</Button>}>
              A service account is a non-human principal for CI jobs, scripts and integrations. Give it a role, then API keys and tokens that act with that role.
            </EmptyState>
          ))}
        {list.data && list.data.content.length > 0 && (
          <div className="table-wrap">
            <table className="table" aria-label="Service accounts">
              <thead>
                <tr>
                  <th scope="col">Service account</th>
                  <th scope="col">Email</th>
                  <th scope="col">Roles</th>
                  <th scope="col">API keys</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.content.map(({ serviceAccount: sa, tokensCount, roleAssignmentsMetadataDTO: roles }) => (
                  <tr key={sa.identifier}>
                    <td data-label="Service account">
                      <Link to={withScope(`/service-accounts/${encodeURIComponent(sa.identifier)}`, scope)} className="strong-link">
                        {sa.name}
                      </Link>
                      <div className="muted mono small">{sa.identifier}</div>
                      <Tags tags={sa.tags} />
                    </td>
                    <td data-label="Email">{sa.email}</td>
                    <td data-label="Roles">{roles.length === 0 ? <span className="muted">No role</span> : roles.map((r) => <span key={r.identifier} className="badge badge-role">{r.roleName}</span>)}</td>
                    <td data-label="API keys">{tokensCount}</td>
                    <td className="cell-actions">
                      <MoreMenu
                        label={`More options for service account ${sa.name}`}
                        items={[
                          { label: 'Manage keys and roles', onSelect: () => navigate(withScope(`/service-accounts/${encodeURIComponent(sa.identifier)}`, scope)) },
                          { label: 'Edit', onSelect: () => setModal({ kind: 'edit', sa }) },
                          { label: 'Delete', danger: true, onSelect: () => setModal({ kind: 'delete', sa }) },
                        ]}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {list.data && <Pager noun="service accounts" pageIndex={list.data.pageIndex} totalPages={list.data.totalPages} totalItems={list.data.totalItems} onPage={setPageIndex} />}
      </section>
      {modal?.kind === 'create' && (
        <ServiceAccountDialog
          scope={scope}
          onClose={close}
          onSaved={(sa) => {
            close();
            toast(`Service account ${sa.name} created.`);
            navigate(withScope(`/service-accounts/${encodeURIComponent(sa.identifier)}`, scope));
          }}
        />
      )}
      {modal?.kind === 'edit' && (
        <ServiceAccountDialog
          scope={scope}
          existing={modal.sa}
          onClose={close}
          onSaved={(sa) => {
            close();
            toast(`Service account ${sa.name} saved.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'delete' && <DeleteServiceAccount scope={scope} sa={modal.sa} onClose={close} onDeleted={refresh} />}
    </div>
  );
}

function DeleteServiceAccount({ scope, sa, onClose, onDeleted }: { scope: Scope; sa: ServiceAccount; onClose: () => void; onDeleted: () => void }) {
  const toast = useToast();
  return (
    <ConfirmDialog
      title={`Delete service account ${sa.name}?`}
      message={
        <p>
          This deletes <strong>{sa.name}</strong>, <strong>all of its API keys and their tokens</strong>, and its role assignments. Anything using its tokens stops working at once.
        </p>
      }
      confirmLabel="Delete service account"
      onClose={onClose}
      onConfirm={async () => {
        await api.deleteServiceAccount(scope, sa.identifier);
        toast(`Service account ${sa.name} deleted.`);
        onDeleted();
      }}
    />
  );
}

function ServiceAccountDialog({ scope, existing, onClose, onSaved }: { scope: Scope; existing?: ServiceAccount; onClose: () => void; onSaved: (sa: ServiceAccount) => void }) {
  const form = useNamedForm(existing);
  const [email, setEmail] = useState(existing?.email ?? '');
  const [emailTouched, setEmailTouched] = useState(false);
  const derivedEmail = `${form.identifier.toLowerCase()}@service.keyward.local`;
  const shownEmail = existing || emailTouched ? email : form.identifier ? derivedEmail : '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const local: FieldErrors = localProblems(form, !existing);
    if (!existing && !/^[^\s@]+@[^\s@]+$/.test(shownEmail)) local.email = 'Enter an email address.';
    void form.run(local, async () => {
      const body = { identifier: existing?.identifier ?? form.identifier, name: form.name.trim(), description: form.description, tags: parseTags(form.tags), email: shownEmail };
      onSaved(existing ? await api.updateServiceAccount(scope, { ...existing, ...body }) : await api.createServiceAccount(scope, body));
    });
  };
  return (
    <Dialog title={existing ? `Edit service account ${existing.name}` : 'New service account'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p className="hint">In {scopeLabel(scope)}.</p>
        <NamedFields form={form} identifierLocked={!!existing} what="service account" />
        <Field label="Email" error={form.fields.email} hint={existing ? 'The email of a service account cannot change.' : 'Made from the identifier; edit it if you like.'}>
          {(a) => (
            <input
              {...a}
              type="email"
              value={shownEmail}
              disabled={!!existing}
              onChange={(e) => {
                setEmailTouched(true);
                setEmail(e.target.value);
              }}
            />
          )}
        </Field>
        <FormActions error={form.error} busy={form.busy} submitLabel="Save" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

/** Harness's managed roles, by the scope level they are offered at. */
export const ROLES: Record<'account' | 'organization' | 'project', Array<{ id: string; name: string }>> = {
  account: [
    { id: '_account_admin', name: 'Account Admin' },
    { id: '_account_viewer', name: 'Account Viewer' },
  ],
  organization: [
    { id: '_organization_admin', name: 'Organization Admin' },
    { id: '_organization_viewer', name: 'Organization Viewer' },
  ],
  project: [
    { id: '_project_admin', name: 'Project Admin' },
    { id: '_project_viewer', name: 'Project Viewer' },
  ],
};

export function ServiceAccountDetail({ scope, identifier }: { scope: Scope; identifier: string }) {
  const [version, setVersion] = useState(0);
  const [modal, setModal] = useState<'edit' | 'delete' | 'role' | { remove: { identifier: string; roleName: string } } | null>(null);
  const toast = useToast();
  const sa = useAsync(() => api.getServiceAccount(scope, identifier), [scope.org, scope.project, identifier, version]);
  const refresh = () => setVersion((v) => v + 1);
  const close = () => setModal(null);
  const back = withScope('/service-accounts', scope);

  if (sa.error && !sa.data) {
    return (
      <div className="page">
        <p className="breadcrumb">
          <Link to={back}>Service Accounts</Link>
        </p>
        <EmptyState title={`No service account ${identifier} in ${scopeLabel(scope)}`}>
          {sa.error.message} <Link to={back}>Back to the list</Link>.
        </EmptyState>
      </div>
    );
  }
  if (!sa.data) return <div className="page"><Loading loading label="Loading the service account…" /></div>;
  const s = sa.data.serviceAccount;
  const roles = sa.data.roleAssignmentsMetadataDTO;
  return (
    <div className="page">
      <p className="breadcrumb">
        Access Control / <Link to={back}>Service Accounts</Link>
      </p>
      <section className="panel" aria-labelledby="sa-name">
        <div className="panel-head">
          <div>
            <h1 id="sa-name">{s.name}</h1>
            <div className="muted">
              <span className="mono">{s.identifier}</span> · {s.email} · {scopeLabel(scope)}
            </div>
            {s.description && <p>{s.description}</p>}
            <Tags tags={s.tags} />
          </div>
          <div className="panel-tools">
            <Button onClick={() => setModal('edit')}>Edit</Button>
            <Button variant="danger" onClick={() => setModal('delete')}>
              Delete
            </Button>
          </div>
        </div>
      </section>

      <section className="panel" aria-labelledby="roles-heading">
        <div className="panel-head">
          <h2 id="roles-heading">Role assignments</h2>
          <Button variant="primary" onClick={() => setModal('role')}>
            + Role
          </Button>
        </div>
        {roles.length === 0 ? (
          <EmptyState title="No roles yet">Its keys' tokens can do nothing until it has a role. Select + Role to give it one.</EmptyState>
        ) : (
          <ul className="role-list" aria-label="Role assignments">
            {roles.map((r) => (
              <li key={r.identifier} className="role-item">
                <span className="badge badge-role">{r.roleName}</span>
                <span className="muted small">
                  on {r.resourceGroupName || r.resourceGroupIdentifier} · {scopeLabel(scope)}
                </span>
                <Button small variant="ghost" label={`Remove role ${r.roleName}`} onClick={() => setModal({ remove: { identifier: r.identifier, roleName: r.roleName } })}>
                  Remove
                </Button>
              </li>
            ))}
          </ul>
        )}
      </section>

      <ApiKeysPanel heading="API Keys" headingLevel={2} owner={{ type: 'SERVICE_ACCOUNT', parentIdentifier: s.identifier, scope }} />

      {modal === 'edit' && (
        <ServiceAccountDialog
          scope={scope}
          existing={s}
          onClose={close}
          onSaved={(x) => {
            close();
            toast(`Service account ${x.name} saved.`);
            refresh();
          }}
        />
      )}
      {modal === 'delete' && <DeleteServiceAccount scope={scope} sa={s} onClose={close} onDeleted={() => navigate(back)} />}
      {modal === 'role' && (
        <RoleDialog
          scope={scope}
          sa={s}
          taken={roles.map((r) => r.roleIdentifier)}
          onClose={close}
          onAdded={(name) => {
            close();
            toast(`Role ${name} given to ${s.name}.`);
            refresh();
          }}
        />
      )}
      {modal !== null && typeof modal === 'object' && (
        <ConfirmDialog
          title={`Remove role ${modal.remove.roleName}?`}
          message={<p>{s.name} and its tokens lose the permissions of {modal.remove.roleName} at once.</p>}
          confirmLabel="Remove role"
          onClose={close}
          onConfirm={async () => {
            await api.removeRole(scope, modal.remove.identifier);
            toast(`Role ${modal.remove.roleName} removed.`);
            refresh();
          }}
        />
      )}
    </div>
  );
}

function RoleDialog({ scope, sa, taken, onClose, onAdded }: { scope: Scope; sa: ServiceAccount; taken: string[]; onClose: () => void; onAdded: (name: string) => void }) {
  const level = scopeLevel(scope);
  const options = ROLES[level];
  const [role, setRole] = useState(options.find((o) => !taken.includes(o.id))?.id ?? options[0]!.id);
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (taken.includes(role)) {
      setFields({ roleIdentifier: `${sa.name} already has this role here.` });
      return;
    }
    setBusy(true);
    setFields({});
    setError(null);
    try {
      await api.addRole(scope, { identifier: sa.identifier, scopeLevel: level }, role);
      onAdded(options.find((o) => o.id === role)?.name ?? role);
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(String(err), 0, '');
      if (ae.fields.roleIdentifier) setFields({ roleIdentifier: ae.fields.roleIdentifier });
      else setError(ae.message);
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Give ${sa.name} a role`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p className="hint">
          The role applies to every resource in {scopeLabel(scope)}
          {level !== 'project' ? ' and below' : ''}.
        </p>
        <Field label="Role" error={fields.roleIdentifier}>
          {(a) => (
            <select {...a} value={role} onChange={(e) => setRole(e.target.value)}>
              {options.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                  {taken.includes(o.id) ? ' (already given)' : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
        <FormActions error={error} busy={busy} submitLabel="Add role" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
