/** The audit log: who did what to which key or token, filterable by actor, action and time. */
import { Fragment, useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, ApiError, type AuditEvent, type Scope, type Session } from '../api';
import { param, setParams, scopeLabel } from '../app';
import { formatTime } from '../format';
import { Button, EmptyState, Field, FormError, Loading } from '../ui';
import { ScrollRegion } from './ApiKeys';

/** Every action the audit log records, in words. */
export const ACTION_LABELS: Record<string, string> = {
  'apikey.create': 'API key created',
  'apikey.update': 'API key edited',
  'apikey.delete': 'API key deleted',
  'apikey.rotate': 'API key rotated',
  'token.create': 'Token created',
  'token.update': 'Token edited',
  'token.rotate': 'Token rotated',
  'token.delete': 'Token deleted',
  'cgapikey.create': 'CG API key created',
  'cgapikey.update': 'CG API key edited',
  'cgapikey.delete': 'CG API key deleted',
  'cgapikey.delete_all': 'All CG API keys deleted',
  'cgapikey.read_value': 'CG API key value read',
  'serviceaccount.create': 'Service account created',
  'serviceaccount.update': 'Service account edited',
  'serviceaccount.delete': 'Service account deleted',
  'roleassignment.create': 'Role assigned',
  'roleassignment.delete': 'Role removed',
  'role.create': 'Role created',
  'usergroup.create': 'User group created',
  'usergroup.update': 'User group edited',
  'usergroup.delete': 'User group deleted',
  'session.signin': 'Sign-in',
  'session.create': 'Signed in (console)',
  'session.end': 'Signed out (console)',
  'user.create': 'User created',
  'user.update': 'User edited',
  'user.activate': 'User activated',
  'user.deactivate': 'User deactivated',
  'user.password.set': 'Password set',
  'account.create': 'Account created',
  'organization.create': 'Organization created',
  'organization.update': 'Organization edited',
  'organization.delete': 'Organization deleted',
  'project.create': 'Project created',
  'project.update': 'Project edited',
  'project.delete': 'Project deleted',
  'policy.update': 'Policy changed',
};

export function actionLabel(a: string, outcome: 'success' | 'failure' = 'success'): string {
  // A failed sign-in reads as one, whichever action records it.
  if (outcome === 'failure' && (a === 'session.signin' || a === 'session.create')) return 'Sign-in failed';
  return ACTION_LABELS[a] ?? a.replace(/[._]/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

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

function filtersFromUrl(): Filters {
  return { actor: param('actor') ?? '', action: param('action') ?? '', from: param('from') ?? '', to: param('to') ?? '' };
}

export function AuditLog({ session, scope }: { session: Session; scope: Scope }) {
  // The filters live in the URL, so a filtered view can be bookmarked, shared, and gone back to.
  const fromUrl = filtersFromUrl();
  const urlKey = JSON.stringify(fromUrl);
  const filters = useMemo(() => JSON.parse(urlKey) as Filters, [urlKey]);
  const [draft, setDraft] = useState<Filters>(filters);
  useEffect(() => setDraft(filters), [filters]);
  const setFilters = (f: Filters) => setParams({ actor: f.actor.trim(), action: f.action, from: f.from, to: f.to });
  const [openId, setOpenId] = useState<string | null>(null);
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
        <p className="page-note">Every change to keys, tokens, service accounts and roles, and every sign-in, newest first, in {scopeLabel(scope)}.</p>
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
                {Object.entries(ACTION_LABELS).map(([x, label]) => (
                  <option key={x} value={x}>
                    {label}
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
          <ScrollRegion label="Audit events">
            <table className="table audit-table" aria-label="Audit events">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Resource</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">
                    <span className="sr-only">Details</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((e) => {
                  const open = openId === e.id;
                  const detailId = `audit-detail-${e.id}`;
                  return (
                    <Fragment key={e.id}>
                      <tr data-event={e.id}>
                        <td data-label="When">{formatTime(e.at)}</td>
                        <td data-label="Who">{who(e)}</td>
                        <td data-label="Action">
                          {actionLabel(e.action, e.outcome)}
                          <div className="muted mono small">{e.action}</div>
                        </td>
                        <td data-label="Resource">
                          <span className="muted">{e.resourceType}</span> <span className="mono small">{e.resourceId}</span>
                          {typeof e.details.identifier === 'string' && <div className="small">{e.details.identifier}</div>}
                        </td>
                        <td data-label="Outcome">
                          <span className={`badge ${e.outcome === 'success' ? 'badge-active' : 'badge-expired'}`}>{e.outcome === 'success' ? 'Succeeded' : 'Failed'}</span>
                          {typeof e.details.reason === 'string' && <div className="small">{e.details.reason}</div>}
                        </td>
                        <td className="cell-actions">
                          <Button small expanded={open} controls={detailId} label={`${open ? 'Hide details' : 'Details'} of ${actionLabel(e.action, e.outcome)} at ${formatTime(e.at)}`} onClick={() => setOpenId(open ? null : e.id)}>
                            {open ? 'Hide details' : 'Details'}
                          </Button>
                        </td>
                      </tr>
                      {open && (
                        <tr id={detailId} className="audit-detail">
                          <td colSpan={6}>
                            <dl className="detail-list">
                              <dt>Event</dt>
                              <dd className="mono">{e.id}</dd>
                              <dt>Actor</dt>
                              <dd>
                                {e.actorType} <span className="mono">{e.actorId}</span>
                              </dd>
                              <dt>Scope</dt>
                              <dd>{[`account ${e.accountId}`, e.orgId && `organization ${e.orgId}`, e.projectId && `project ${e.projectId}`].filter(Boolean).join(' · ')}</dd>
                              {Object.entries(e.details).map(([k, v]) => (
                                <Fragment key={k}>
                                  <dt>{k}</dt>
                                  <dd className="mono">{typeof v === 'number' && /At$|^valid|Time$|EndsAt$/.test(k) ? `${formatTime(v)} (${v})` : typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                                </Fragment>
                              ))}
                            </dl>
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </ScrollRegion>
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
