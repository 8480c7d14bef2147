/**
 * Access Control > User Groups: list, create, edit, delete in the chosen scope; one group's members
 * (add, remove) and role assignments (add, remove), which its members' tokens act with.
 */
import { useCallback, useState, type FormEvent } from 'react';
import { api, ApiError, type FieldErrors, type Scope, type Session, type UserGroup } from '../api';
import { Link, navigate, scopeLabel, scopeLevel, withScope } from '../app';
import { parseTags } from '../format';
import { Button, ConfirmDialog, Dialog, EmptyState, Field, FormActions, FormError, Loading, MoreMenu, Pager, SearchBox, useAsync, useToast } from '../ui';
import { explainDuplicate, localProblems, NamedFields, ScrollRegion, Tags, useNamedForm } from './ApiKeys';
import { ROLES } from './ServiceAccounts';

const PAGE_SIZE = 20;

type Modal = { kind: 'create' } | { kind: 'edit'; group: UserGroup } | { kind: 'delete'; group: UserGroup };

export function UserGroups({ scope }: { scope: Scope }) {
  const [pageIndex, setPageIndex] = useState(0);
  const [search, setSearch] = useState('');
  const [version, setVersion] = useState(0);
  const [modal, setModal] = useState<Modal | null>(null);
  const toast = useToast();
  const list = useAsync(() => api.userGroups(scope, { pageIndex, pageSize: PAGE_SIZE, searchTerm: search }), [scope.org, scope.project, pageIndex, search, version]);
  const onSearch = useCallback((s: string) => {
    setSearch(s);
    setPageIndex(0);
  }, []);
  const close = () => setModal(null);
  const refresh = () => setVersion((v) => v + 1);
  return (
    <div className="page">
      <p className="breadcrumb">Access Control</p>
      <section className="panel" aria-labelledby="ug-heading">
        <div className="panel-head">
          <h1 id="ug-heading">User Groups</h1>
          <div className="panel-tools">
            <SearchBox label="Search user groups" value={search} onChange={onSearch} />
            <Button id="add-group" variant="primary" onClick={() => setModal({ kind: 'create' })}>
              + New User Group
            </Button>
          </div>
        </div>
        <p className="page-note">Showing user groups of {scopeLabel(scope)}. A group's roles apply to its members and to their tokens.</p>
        <Loading loading={list.loading && !list.data} label="Loading user groups…" />
        {list.error && <FormError error={list.error.message} />}
        {list.data && list.data.content.length === 0 && (
          <EmptyState title={search ? `No user group matches “${search}”.` : `No user groups in ${scopeLabel(scope)}`} action={search ? undefined : <Button variant="primary" onClick={() => setModal({ kind: 'create' })}>Create a user group</Button>}>
            {search ? 'Clear the search to see every group here.' : 'Put users in a group, then give the group roles.'}
          </EmptyState>
        )}
        {list.data && list.data.content.length > 0 && (
          <ScrollRegion label="User groups">
            <table className="table" aria-label="User groups">
              <thead>
                <tr>
                  <th scope="col">User group</th>
                  <th scope="col">Members</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.content.map((g) => (
                  <tr key={g.identifier}>
                    <td data-label="User group">
                      <Link to={withScope(`/user-groups/${encodeURIComponent(g.identifier)}`, scope)} className="strong-link">
                        {g.name}
                      </Link>
                      <div className="muted mono small">{g.identifier}</div>
                      <Tags tags={g.tags} />
                    </td>
                    <td data-label="Members">{g.users.length}</td>
                    <td className="cell-actions">
                      <MoreMenu
                        label={`More options for user group ${g.name}`}
                        items={[
                          { label: 'Members and roles', onSelect: () => navigate(withScope(`/user-groups/${encodeURIComponent(g.identifier)}`, scope)) },
                          { label: 'Edit', onSelect: () => setModal({ kind: 'edit', group: g }) },
                          { label: 'Delete', danger: true, onSelect: () => setModal({ kind: 'delete', group: g }) },
                        ]}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
        {list.data && <Pager noun="user groups" pageIndex={list.data.pageIndex} totalPages={list.data.totalPages} totalItems={list.data.totalItems} onPage={setPageIndex} />}
      </section>
      {(modal?.kind === 'create' || modal?.kind === 'edit') && (
        <GroupDialog
          scope={scope}
          existing={modal.kind === 'edit' ? modal.group : undefined}
          onClose={close}
          onSaved={(g) => {
            close();
            toast(`User group ${g.name} ${modal.kind === 'edit' ? 'saved' : 'created'}.`);
            if (modal.kind === 'create') navigate(withScope(`/user-groups/${encodeURIComponent(g.identifier)}`, scope));
            else refresh();
          }}
        />
      )}
      {modal?.kind === 'delete' && (
        <DeleteGroup scope={scope} group={modal.group} onClose={close} onDeleted={refresh} />
      )}
    </div>
  );
}

function DeleteGroup({ scope, group, onClose, onDeleted }: { scope: Scope; group: UserGroup; onClose: () => void; onDeleted: () => void }) {
  const toast = useToast();
  return (
    <ConfirmDialog
      title={`Delete user group ${group.name}?`}
      message={
        <p>
          Its {group.users.length === 1 ? 'member loses' : `${group.users.length} members lose`} the permissions of its roles at once, and so do their tokens. The users themselves stay.
        </p>
      }
      confirmLabel="Delete user group"
      onClose={onClose}
      afterConfirmFocus={() => document.getElementById('add-group')}
      onConfirm={async () => {
        await api.deleteUserGroup(scope, group.identifier);
        toast(`User group ${group.name} deleted.`);
        onDeleted();
      }}
    />
  );
}

function GroupDialog({ scope, existing, onClose, onSaved }: { scope: Scope; existing?: UserGroup | undefined; onClose: () => void; onSaved: (g: UserGroup) => void }) {
  const form = useNamedForm(existing ? { ...existing, description: existing.description ?? '' } : undefined);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void form.run(
      localProblems(form, !existing),
      async () => {
        const body = { identifier: existing?.identifier ?? form.identifier, name: form.name.trim(), description: form.description, tags: parseTags(form.tags) };
        onSaved(existing ? await api.updateUserGroup(scope, { ...existing, ...body }) : await api.createUserGroup(scope, body));
      },
      (err) => explainDuplicate(err, 'user group', existing?.identifier ?? form.identifier, !!existing),
    );
  };
  return (
    <Dialog title={existing ? `Edit user group ${existing.name}` : 'New user group'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p className="hint">In {scopeLabel(scope)}.</p>
        <NamedFields form={form} identifierLocked={!!existing} what="user group" />
        <FormActions error={form.error} busy={form.busy} submitLabel="Save" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

type DetailModal = 'edit' | 'delete' | 'member' | 'role' | { removeMember: { id: string; email: string } } | { removeRole: { identifier: string; name: string } };

export function UserGroupDetail({ session, scope, identifier }: { session: Session; scope: Scope; identifier: string }) {
  const [version, setVersion] = useState(0);
  const [modal, setModal] = useState<DetailModal | null>(null);
  const toast = useToast();
  const group = useAsync(() => api.getUserGroup(scope, identifier), [scope.org, scope.project, identifier, version]);
  const roles = useAsync(() => api.rolesOf(scope, { type: 'USER_GROUP', identifier }), [scope.org, scope.project, identifier, version]);
  const users = useAsync(() => api.users(session.accountId, { pageIndex: 0, pageSize: 100 }), [session.accountId, version]);
  const refresh = () => setVersion((v) => v + 1);
  const close = () => setModal(null);
  const back = withScope('/user-groups', scope);
  if (group.error && !group.data) {
    return (
      <div className="page">
        <EmptyState title={`No user group ${identifier} in ${scopeLabel(scope)}`}>
          {group.error.message} <Link to={back}>Back to the list</Link>.
        </EmptyState>
      </div>
    );
  }
  if (!group.data) return <div className="page"><Loading loading label="Loading the user group…" /></div>;
  const g = group.data;
  const byId = new Map((users.data?.items ?? []).map((u) => [u.id, u]));
  const roleName = (id: string) => Object.values(ROLES).flat().find((r) => r.id === id)?.name ?? id;
  const assignments = roles.data?.content ?? [];
  return (
    <div className="page">
      <p className="breadcrumb">
        Access Control / <Link to={back}>User Groups</Link>
      </p>
      <section className="panel" aria-labelledby="ug-name">
        <div className="panel-head">
          <div>
            <h1 id="ug-name">{g.name}</h1>
            <div className="muted">
              <span className="mono">{g.identifier}</span> · {scopeLabel(scope)}
            </div>
            {g.description && <p>{g.description}</p>}
            <Tags tags={g.tags} />
          </div>
          <div className="panel-tools">
            <Button onClick={() => setModal('edit')}>Edit</Button>
            <Button variant="danger" onClick={() => setModal('delete')}>
              Delete
            </Button>
          </div>
        </div>
      </section>

      <section className="panel" aria-labelledby="members-heading">
        <div className="panel-head">
          <h2 id="members-heading">Members</h2>
          <Button id="add-member" variant="primary" onClick={() => setModal('member')}>
            + Member
          </Button>
        </div>
        {g.users.length === 0 ? (
          <EmptyState title="No members yet">Add users; they get the group's roles at once.</EmptyState>
        ) : (
          <ul className="role-list" aria-label="Members">
            {g.users.map((id) => {
              const u = byId.get(id);
              const label = u?.email ?? id;
              return (
                <li key={id} className="role-item">
                  <span>{u?.name && u.name !== u.email ? `${u.name} · ${u.email}` : label}</span>
                  {u && !u.active && <span className="badge badge-expired">Deactivated</span>}
                  <Button small variant="ghost" label={`Remove member ${label}`} onClick={() => setModal({ removeMember: { id, email: label } })}>
                    Remove
                  </Button>
                </li>
              );
            })}
          </ul>
        )}
      </section>

      <section className="panel" aria-labelledby="ug-roles-heading">
        <div className="panel-head">
          <h2 id="ug-roles-heading">Role assignments</h2>
          <Button id="add-group-role" variant="primary" onClick={() => setModal('role')}>
            + Role
          </Button>
        </div>
        {roles.error && <FormError error={roles.error.message} />}
        {roles.data && assignments.length === 0 && <EmptyState title="No roles yet">Members get nothing from this group until it has a role.</EmptyState>}
        {assignments.length > 0 && (
          <ul className="role-list" aria-label="Role assignments">
            {assignments.map(({ roleAssignment: r }) => (
              <li key={r.identifier} className="role-item">
                <span className="badge badge-role">{roleName(r.roleIdentifier)}</span>
                <span className="muted small">
                  on {r.resourceGroupIdentifier} · {scopeLabel(scope)}
                </span>
                <Button small variant="ghost" label={`Remove role ${roleName(r.roleIdentifier)}`} onClick={() => setModal({ removeRole: { identifier: r.identifier, name: roleName(r.roleIdentifier) } })}>
                  Remove
                </Button>
              </li>
            ))}
          </ul>
        )}
      </section>

      {modal === 'edit' && (
        <GroupDialog
          scope={scope}
          existing={g}
          onClose={close}
          onSaved={(x) => {
            close();
            toast(`User group ${x.name} saved.`);
            refresh();
          }}
        />
      )}
      {modal === 'delete' && <DeleteGroup scope={scope} group={g} onClose={close} onDeleted={() => navigate(back)} />}
      {modal === 'member' && (
        <MemberDialog
          group={g}
          candidates={(users.data?.items ?? []).filter((u) => !g.users.includes(u.id))}
          onClose={close}
          add={async (userId) => {
            await api.setMember(scope, g.identifier, userId, true);
            close();
            toast(`${byId.get(userId)?.email ?? userId} added to ${g.name}.`);
            refresh();
          }}
        />
      )}
      {modal === 'role' && (
        <GroupRoleDialog
          scope={scope}
          group={g}
          taken={assignments.map((a) => a.roleAssignment.roleIdentifier)}
          onClose={close}
          onAdded={(name) => {
            close();
            toast(`Role ${name} given to ${g.name}.`);
            refresh();
          }}
        />
      )}
      {modal !== null && typeof modal === 'object' && 'removeMember' in modal && (
        <ConfirmDialog
          title={`Remove ${modal.removeMember.email} from ${g.name}?`}
          message={<p>{modal.removeMember.email} and their tokens lose this group's roles at once.</p>}
          confirmLabel="Remove member"
          onClose={close}
          afterConfirmFocus={() => document.getElementById('add-member')}
          onConfirm={async () => {
            await api.setMember(scope, g.identifier, modal.removeMember.id, false);
            toast(`${modal.removeMember.email} removed from ${g.name}.`);
            refresh();
          }}
        />
      )}
      {modal !== null && typeof modal === 'object' && 'removeRole' in modal && (
        <ConfirmDialog
          title={`Remove role ${modal.removeRole.name}?`}
          message={<p>The members of {g.name} and their tokens lose the permissions of {modal.removeRole.name} at once.</p>}
          confirmLabel="Remove role"
          onClose={close}
          afterConfirmFocus={() => document.getElementById('add-group-role')}
          onConfirm={async () => {
            await api.removeRole(scope, modal.removeRole.identifier);
            toast(`Role ${modal.removeRole.name} removed.`);
            refresh();
          }}
        />
      )}
    </div>
  );
}

function MemberDialog({ group, candidates, onClose, add }: { group: UserGroup; candidates: Array<{ id: string; email: string; name: string }>; onClose: () => void; add: (userId: string) => Promise<void> }) {
  const [userId, setUserId] = useState(candidates[0]?.id ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!userId) return;
    setBusy(true);
    setError(null);
    try {
      await add(userId);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Add a member to ${group.name}`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        {candidates.length === 0 ? (
          <p>Every user of the account is already a member. Create users on the Users page.</p>
        ) : (
          <Field label="User">
            {(a) => (
              <select {...a} value={userId} onChange={(e) => setUserId(e.target.value)}>
                {candidates.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name && u.name !== u.email ? `${u.name} (${u.email})` : u.email}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <FormActions error={error} busy={busy} submitLabel="Add member" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function GroupRoleDialog({ scope, group, taken, onClose, onAdded }: { scope: Scope; group: UserGroup; taken: string[]; onClose: () => void; onAdded: (name: string) => void }) {
  const level = scopeLevel(scope);
  const options = ROLES[level];
  const [role, setRole] = useState(options.find((o) => !taken.includes(o.id))?.id ?? options[0]!.id);
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (taken.includes(role)) {
      setFields({ roleIdentifier: `${group.name} already has this role here.` });
      return;
    }
    setBusy(true);
    setFields({});
    setError(null);
    try {
      await api.addRole(scope, { identifier: group.identifier, scopeLevel: level, type: 'USER_GROUP' }, role);
      onAdded(options.find((o) => o.id === role)?.name ?? role);
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(String(err), 0, '');
      if (ae.fields.roleIdentifier) setFields({ roleIdentifier: ae.fields.roleIdentifier });
      else setError(ae.message);
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Give ${group.name} a role`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p className="hint">
          The role applies to every resource in {scopeLabel(scope)}
          {level !== 'project' ? ' and below' : ''}, for every member of the group.
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
