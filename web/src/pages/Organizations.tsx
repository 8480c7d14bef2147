/**
 * Organizations and their projects: list, create, edit, delete (Harness NG `/organizations` and
 * `/projects`). A change here reaches the scope switcher at once.
 */
import { useState, type FormEvent } from 'react';
import { api, type Organization, type Project, type Scope } from '../api';
import { Link, withScope } from '../app';
import { parseTags } from '../format';
import { Button, ConfirmDialog, Dialog, EmptyState, FormActions, FormError, Loading, MoreMenu, useAsync, useToast } from '../ui';
import { explainDuplicate, localProblems, NamedFields, ScrollRegion, Tags, useNamedForm } from './ApiKeys';

/** Tells the scope switcher (and anyone else listening) that organizations or projects changed. */
export function scopesChanged(): void {
  window.dispatchEvent(new Event('keyward:scopes'));
}

/** One organization's or project's row: its name (a link), identifier, tags, description and ⋮ menu. */
function ScopeRow({ what, item, to, onEdit, onDelete }: { what: 'organization' | 'project'; item: Organization; to: string; onEdit: () => void; onDelete: () => void }) {
  return (
    <tr>
      <td data-label={what === 'organization' ? 'Organization' : 'Project'}>
        <Link to={to} className="strong-link">
          {item.name}
        </Link>
        <div className="muted mono small">{item.identifier}</div>
        <Tags tags={item.tags} />
      </td>
      <td data-label="Description">{item.description || <span className="muted">—</span>}</td>
      <td className="cell-actions">
        <MoreMenu
          label={`More options for ${what} ${item.name}`}
          items={[
            { label: 'Edit', onSelect: onEdit },
            { label: 'Delete', danger: true, onSelect: onDelete },
          ]}
        />
      </td>
    </tr>
  );
}

type Modal<T> = { kind: 'create' } | { kind: 'edit'; item: T } | { kind: 'delete'; item: T };

export function Organizations({ scope }: { scope: Scope }) {
  const [version, setVersion] = useState(0);
  const [modal, setModal] = useState<Modal<Organization> | null>(null);
  const toast = useToast();
  const list = useAsync(() => api.organizations(scope.accountId), [scope.accountId, version]);
  const refresh = () => {
    setVersion((v) => v + 1);
    scopesChanged();
  };
  const close = () => setModal(null);
  return (
    <div className="page">
      <p className="breadcrumb">Account settings</p>
      <section className="panel" aria-labelledby="orgs-heading">
        <div className="panel-head">
          <h1 id="orgs-heading">Organizations</h1>
          <div className="panel-tools">
            <Button id="add-org" variant="primary" onClick={() => setModal({ kind: 'create' })}>
              + New Organization
            </Button>
          </div>
        </div>
        <p className="page-note">Organizations group projects. Service accounts, user groups and their keys can live at the account, in an organization, or in a project.</p>
        <Loading loading={list.loading && !list.data} label="Loading organizations…" />
        {list.error && <FormError error={list.error.message} />}
        {list.data && list.data.content.length === 0 && (
          <EmptyState title="No organizations yet" action={<Button variant="primary" onClick={() => setModal({ kind: 'create' })}>Create an organization</Button>}>
            Create one, then projects in it.
          </EmptyState>
        )}
        {list.data && list.data.content.length > 0 && (
          <ScrollRegion label="Organizations">
            <table className="table" aria-label="Organizations">
              <thead>
                <tr>
                  <th scope="col">Organization</th>
                  <th scope="col">Description</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.content.map(({ organization: o }) => (
                  <ScopeRow
                    key={o.identifier}
                    what="organization"
                    item={o}
                    to={withScope(`/organizations/${encodeURIComponent(o.identifier)}`, scope)}
                    onEdit={() => setModal({ kind: 'edit', item: o })}
                    onDelete={() => setModal({ kind: 'delete', item: o })}
                  />
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </section>
      {(modal?.kind === 'create' || modal?.kind === 'edit') && (
        <ScopeDialog
          what="organization"
          existing={modal.kind === 'edit' ? modal.item : undefined}
          onClose={close}
          save={async (body) => {
            if (modal.kind === 'edit') await api.updateOrganization(scope.accountId, { ...modal.item, ...body, identifier: modal.item.identifier });
            else await api.createOrganization(scope.accountId, body);
            close();
            toast(`Organization ${body.name} ${modal.kind === 'edit' ? 'saved' : 'created'}.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'delete' && (
        <ConfirmDialog
          title={`Delete organization ${modal.item.name}?`}
          message={
            <p>
              This deletes <strong>{modal.item.name}</strong> and <strong>everything in it</strong>: its projects, service accounts, user groups, role assignments, API keys and
              tokens. Anything using those tokens stops working at once. This cannot be undone.
            </p>
          }
          confirmLabel="Delete organization"
          onClose={close}
          afterConfirmFocus={() => document.getElementById('add-org')}
          onConfirm={async () => {
            await api.deleteOrganization(scope.accountId, modal.item.identifier);
            toast(`Organization ${modal.item.name} deleted.`);
            refresh();
          }}
        />
      )}
    </div>
  );
}

export function OrganizationDetail({ scope, identifier }: { scope: Scope; identifier: string }) {
  const [version, setVersion] = useState(0);
  const [modal, setModal] = useState<Modal<Project> | null>(null);
  const toast = useToast();
  const orgs = useAsync(() => api.organizations(scope.accountId), [scope.accountId, version]);
  const projects = useAsync(() => api.projects(scope.accountId, identifier), [scope.accountId, identifier, version]);
  const refresh = () => {
    setVersion((v) => v + 1);
    scopesChanged();
  };
  const close = () => setModal(null);
  const org = orgs.data?.content.find((o) => o.organization.identifier === identifier)?.organization;
  const back = withScope('/organizations', scope);
  if (orgs.data && !org) {
    return (
      <div className="page">
        <EmptyState title={`No organization ${identifier}`}>
          <Link to={back}>Back to the organizations</Link>.
        </EmptyState>
      </div>
    );
  }
  const name = org?.name ?? identifier;
  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to={back}>Organizations</Link>
      </p>
      <section className="panel" aria-labelledby="org-heading">
        <div className="panel-head">
          <div>
            <h1 id="org-heading">{name}</h1>
            <div className="muted mono small">{identifier}</div>
            {org?.description && <p>{org.description}</p>}
          </div>
          <div className="panel-tools">
            <Link to={withScope('/service-accounts', { ...scope, org: identifier, project: null })}>Service accounts in {name}</Link>
          </div>
        </div>
      </section>
      <section className="panel" aria-labelledby="projects-heading">
        <div className="panel-head">
          <h2 id="projects-heading">Projects</h2>
          <Button id="add-project" variant="primary" onClick={() => setModal({ kind: 'create' })}>
            + New Project
          </Button>
        </div>
        <Loading loading={projects.loading && !projects.data} label="Loading projects…" />
        {projects.error && <FormError error={projects.error.message} />}
        {projects.data && projects.data.content.length === 0 && (
          <EmptyState title={`No projects in ${name} yet`} action={<Button variant="primary" onClick={() => setModal({ kind: 'create' })}>Create a project</Button>}>
            A project holds its own service accounts, user groups and keys.
          </EmptyState>
        )}
        {projects.data && projects.data.content.length > 0 && (
          <ScrollRegion label="Projects">
            <table className="table" aria-label={`Projects of ${name}`}>
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col">Description</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {projects.data.content.map(({ project: p }) => (
                  <ScopeRow
                    key={p.identifier}
                    what="project"
                    item={p}
                    to={withScope('/service-accounts', { ...scope, org: identifier, project: p.identifier })}
                    onEdit={() => setModal({ kind: 'edit', item: p })}
                    onDelete={() => setModal({ kind: 'delete', item: p })}
                  />
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </section>
      {(modal?.kind === 'create' || modal?.kind === 'edit') && (
        <ScopeDialog
          what="project"
          existing={modal.kind === 'edit' ? modal.item : undefined}
          onClose={close}
          save={async (body) => {
            if (modal.kind === 'edit') await api.updateProject(scope.accountId, { ...modal.item, ...body, identifier: modal.item.identifier });
            else await api.createProject(scope.accountId, identifier, body);
            close();
            toast(`Project ${body.name} ${modal.kind === 'edit' ? 'saved' : 'created'}.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'delete' && (
        <ConfirmDialog
          title={`Delete project ${modal.item.name}?`}
          message={
            <p>
              This deletes <strong>{modal.item.name}</strong> and <strong>everything in it</strong>: its service accounts, user groups, role assignments, API keys and tokens.
              This cannot be undone.
            </p>
          }
          confirmLabel="Delete project"
          onClose={close}
          afterConfirmFocus={() => document.getElementById('add-project')}
          onConfirm={async () => {
            await api.deleteProject(scope.accountId, identifier, modal.item.identifier);
            toast(`Project ${modal.item.name} deleted.`);
            refresh();
          }}
        />
      )}
    </div>
  );
}

/** Name, identifier, description and tags of an organization or a project. */
function ScopeDialog({
  what,
  existing,
  onClose,
  save,
}: {
  what: 'organization' | 'project';
  existing?: Organization | undefined;
  onClose: () => void;
  save: (body: { identifier: string; name: string; description: string; tags: Record<string, string> }) => Promise<void>;
}) {
  const form = useNamedForm(existing ? { ...existing, description: existing.description ?? '' } : undefined);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void form.run(
      localProblems(form, !existing),
      () => save({ identifier: existing?.identifier ?? form.identifier, name: form.name.trim(), description: form.description, tags: parseTags(form.tags) }),
      (err) => explainDuplicate(err, what, existing?.identifier ?? form.identifier, !!existing),
    );
  };
  const title = existing ? `Edit ${what} ${existing.name}` : `New ${what}`;
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <NamedFields form={form} identifierLocked={!!existing} what={what} />
        <FormActions error={form.error} busy={form.busy} submitLabel="Save" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
