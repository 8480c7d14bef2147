/** The audit log: who did what to which key or token, filterable by actor, action and time. */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, type AuditEvent, type Scope, type Session } from '../api';
import { scopeLabel } from '../app';
import { formatTime } from '../format';
import { Button, EmptyState, Field, FormError, Loading } from '../ui';

const ACTIONS = [
  'apikey.create', 'apikey.update', 'apikey.delete',
  'token.create', 'token.update', 'token.rotate', 'token.delete',
  'serviceaccount.create', 'serviceaccount.update', 'serviceaccount.delete',
  'roleassignment.create', 'roleassignment.delete',
  'session.create', 'session.end',
  'user.create', 'user.update', 'user.activate', 'user.deactivate', 'user.password.set',
  'organization.create', 'organization.update', 'organization.delete',
  'project.create', 'project.update', 'project.delete',
];

interface Filters {
  actor: string;
  action: string;
  from: string;
  to: string;
}

/** yyyy-mm-dd from a date input to the start (or end) of that day, local time. */
function dayBound(v: string, end: boolean): number | undefined {
  if (!v) return undefined;
  const [y, m, d] = v.split('-').map(Number) as [number, number, number];
  return end ? new Date(y, m - 1, d, 23, 59, 59, 999).getTime() : new Date(y, m - 1, d).getTime();
}

function inScope(e: AuditEvent, s: Scope): boolean {
  if (s.org && e.orgId !== s.org) return false;
  if (s.project && e.projectId !== s.project) return false;
  return true;
}

export function AuditLog({ session, scope }: { session: Session; scope: Scope }) {
  const [draft, setDraft] = useState<Filters>({ actor: '', action: '', from: '', to: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [items, setItems] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [fieldErr, setFieldErr] = useState<{ to?: string }>({});

  const me = session.principal.id;
  const actorId = filters.actor === 'me' ? me : filters.actor.trim();

  const load = async (after: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await api.audit(session.accountId, {
        ...(actorId ? { actor: actorId } : {}),
        ...(filters.action ? { action: filters.action } : {}),
        ...(filters.from ? { from: dayBound(filters.from, false)! } : {}),
        ...(filters.to ? { to: dayBound(filters.to, true)! } : {}),
        ...(after ? { cursor: after } : {}),
      });
      setItems((prev) => (after ? [...prev, ...page.items] : page.items));
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filters]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    if (draft.from && draft.to && draft.to < draft.from) {
      setFieldErr({ to: 'The end date is before the start date.' });
      return;
    }
    setFieldErr({});
    setFilters(draft);
  };
  const shown = items.filter((e) => inScope(e, scope));
  const who = (e: AuditEvent) => (e.actorId === me ? `You (${session.principal.email})` : `${e.actorType === 'SERVICE_ACCOUNT' ? 'Service account' : e.actorType === 'USER' ? 'User' : e.actorType} ${e.actorId}`);

  return (
    <div className="page">
      <section className="panel" aria-labelledby="audit-heading">
        <div className="panel-head">
          <h1 id="audit-heading">Audit Log</h1>
        </div>
        <p className="page-note">Every change to keys, tokens, service accounts and roles, newest first, in {scopeLabel(scope)}.</p>
        <form className="filters" onSubmit={apply} aria-label="Filter the audit log">
          <Field label="Actor">
            {(a) => <input {...a} list="audit-actors" placeholder="me, or a user or service-account id" value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} autoComplete="off" />}
          </Field>
          <datalist id="audit-actors">
            <option value="me" />
            {[...new Set(items.map((i) => i.actorId))].map((id) => (
              <option key={id} value={id} />
            ))}
          </datalist>
          <Field label="Action">
            {(a) => (
              <select {...a} value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })}>
                <option value="">Any action</option>
                {ACTIONS.map((x) => (
                  <option key={x} value={x}>
                    {x}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="From">
            {(a) => <input {...a} type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />}
          </Field>
          <Field label="To" error={fieldErr.to}>
            {(a) => <input {...a} type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />}
          </Field>
          <div className="filter-actions">
            <Button type="submit" variant="primary">
              Apply
            </Button>
            <Button
              variant="ghost"
              onClick={() => {
                const none = { actor: '', action: '', from: '', to: '' };
                setDraft(none);
                setFilters(none);
              }}
            >
              Clear
            </Button>
          </div>
        </form>
        <FormError error={error} />
        <Loading loading={loading && items.length === 0} label="Loading the audit log…" />
        {!loading && shown.length === 0 && !error && (
          <EmptyState title="No events match">Widen the time range, choose “Any action”, or clear the actor to see more.</EmptyState>
        )}
        {shown.length > 0 && (
          <div className="table-wrap">
            <table className="table" aria-label="Audit events">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Resource</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((e) => (
                  <tr key={e.id}>
                    <td data-label="When">{formatTime(e.at)}</td>
                    <td data-label="Who">{who(e)}</td>
                    <td data-label="Action">
                      <span className="mono">{e.action}</span>
                    </td>
                    <td data-label="Resource">
                      <span className="muted">{e.resourceType}</span> <span className="mono small">{e.resourceId}</span>
                      {typeof e.details.identifier === 'string' && <div className="small">{e.details.identifier}</div>}
                    </td>
                    <td data-label="Outcome">
                      <span className={`badge ${e.outcome === 'success' ? 'badge-active' : 'badge-expired'}`}>{e.outcome}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {cursor && (
          <div className="more">
            <Button busy={loading} onClick={() => void load(cursor)}>
              Load older events
            </Button>
          </div>
        )}
      </section>
    </div>
  );
}
