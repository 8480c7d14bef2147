/**
 * Lifecycle webhooks of the account (native `/v1/accounts/{id}/webhooks`, docs/webhooks.md):
 * endpoints with their event filters, the signing secret shown once, the delivery log and replay.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, WEBHOOK_EVENTS, type FieldErrors, type Session, type WebhookEndpoint } from '../api';
import { formatTime } from '../format';
import { Button, ConfirmDialog, Dialog, EmptyState, Field, FormActions, FormError, Loading, MoreMenu, TokenRevealDialog, useAsync, useToast } from '../ui';
import { ScrollRegion } from './ApiKeys';
import { showSubmitError } from '../errors';

type Modal =
  | { kind: 'create' }
  | { kind: 'edit'; endpoint: WebhookEndpoint }
  | { kind: 'delete'; endpoint: WebhookEndpoint }
  | { kind: 'secret'; endpoint: WebhookEndpoint; secret: string }
  | { kind: 'log'; endpoint: WebhookEndpoint };

export function Webhooks({ session }: { session: Session }) {
  const [version, setVersion] = useState(0);
  const [modal, setModal] = useState<Modal | null>(null);
  const toast = useToast();
  const list = useAsync(() => api.webhooks(session.accountId), [session.accountId, version]);
  const refresh = () => setVersion((v) => v + 1);
  const close = () => setModal(null);
  return (
    <div className="page">
      <p className="breadcrumb">Account Settings</p>
      <section className="panel" aria-labelledby="webhooks-heading">
        <div className="panel-head">
          <h1 id="webhooks-heading">Webhooks</h1>
          <div className="panel-tools">
            <Button id="add-webhook" variant="primary" onClick={() => setModal({ kind: 'create' })}>
              + New Endpoint
            </Button>
          </div>
        </div>
        <p className="page-note">
          Keyward posts token and service-account events to these URLs, signed with Standard Webhooks headers. A failed delivery is retried with backoff.
        </p>
        <Loading loading={list.loading && !list.data} label="Loading webhook endpoints…" />
        {list.error && <FormError error={list.error.message} />}
        {list.data && list.data.items.length === 0 && <EmptyState title="No webhook endpoints" />}
        {list.data && list.data.items.length > 0 && (
          <ListTable label="Webhook endpoints" columns={['Endpoint', 'Events', 'Status']}>
                {list.data.items.map((w) => (
                  <tr key={w.id} data-webhook={w.url}>
                    <td data-label="Endpoint">
                      <div className="token-name mono">{w.url}</div>
                      {w.description && <div className="muted small">{w.description}</div>}
                    </td>
                    <td data-label="Events">{w.events.length === 0 ? 'All events' : w.events.join(', ')}</td>
                    <td data-label="Status">
                      <span className={`badge ${w.enabled ? 'badge-active' : 'badge-expired'}`}>{w.enabled ? 'Enabled' : 'Disabled'}</span>
                    </td>
                    <td className="cell-actions">
                      <Button small onClick={() => setModal({ kind: 'log', endpoint: w })} label={`Deliveries of ${w.url}`}>
                        Deliveries
                      </Button>
                      <MoreMenu
                        id={`webhook-menu-${w.id}`}
                        label={`More options for endpoint ${w.url}`}
                        items={[
                          { label: 'Edit', onSelect: () => setModal({ kind: 'edit', endpoint: w }) },
                          {
                            label: 'Rotate secret',
                            onSelect: () =>
                              void api.rotateWebhookSecret(session.accountId, w.id).then(
                                (r) => setModal({ kind: 'secret', endpoint: r.endpoint, secret: r.secret }),
                                (e: unknown) => toast(e instanceof Error ? e.message : String(e)),
                              ),
                          },
                          { label: 'Delete', danger: true, onSelect: () => setModal({ kind: 'delete', endpoint: w }) },
                        ]}
                      />
                    </td>
                  </tr>
                ))}
          </ListTable>
        )}
      </section>
      {(modal?.kind === 'create' || modal?.kind === 'edit') && (
        <EndpointDialog
          accountId={session.accountId}
          endpoint={modal.kind === 'edit' ? modal.endpoint : null}
          onClose={close}
          onSaved={(endpoint, secret) => {
            refresh();
            if (secret) setModal({ kind: 'secret', endpoint, secret });
            else {
              close();
              toast(`Endpoint ${endpoint.url} saved.`);
            }
          }}
        />
      )}
      {modal?.kind === 'secret' && (
        <TokenRevealDialog
          token={modal.secret}
          title="Signing secret"
          note={<p>Verify each delivery with this secret (docs/webhooks.md). It is shown once; rotate it to get a new one.</p>}
          onClose={close}
        />
      )}
      {modal?.kind === 'delete' && (
        <ConfirmDialog
          title={`Delete endpoint ${modal.endpoint.url}?`}
          message={<p>Deliveries still queued for it are dropped with it.</p>}
          confirmLabel="Delete endpoint"
          onClose={close}
          onConfirm={async () => {
            await api.deleteWebhook(session.accountId, modal.endpoint.id);
            toast(`Endpoint ${modal.endpoint.url} deleted.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'log' && <DeliveryLog accountId={session.accountId} endpoint={modal.endpoint} onClose={close} />}
    </div>
  );
}

function EndpointDialog({
  accountId,
  endpoint,
  onClose,
  onSaved,
}: {
  accountId: string;
  endpoint: WebhookEndpoint | null;
  onClose: () => void;
  onSaved: (e: WebhookEndpoint, secret: string | null) => void;
}) {
  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [description, setDescription] = useState(endpoint?.description ?? '');
  const [events, setEvents] = useState<string[]>(endpoint?.events ?? []);
  const [enabled, setEnabled] = useState(endpoint?.enabled ?? true);
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!/^https?:\/\/\S+$/i.test(url.trim())) {
      setFields({ url: 'Enter an http or https URL, such as https://hooks.example.com/keyward.' });
      return;
    }
    setFields({});
    setError(null);
    setBusy(true);
    const body = { url: url.trim(), description: description.trim(), events, enabled };
    try {
      if (endpoint) onSaved(await api.updateWebhook(accountId, endpoint.id, body), null);
      else {
        const r = await api.createWebhook(accountId, body);
        onSaved(r.endpoint, r.secret);
      }
    } catch (err) {
      showSubmitError(err, setFields, setError);
      setBusy(false);
    }
  };
  return (
    <Dialog title={endpoint ? 'Edit webhook endpoint' : 'New webhook endpoint'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <Field label="URL" error={fields.url} hint="Keyward posts JSON here. http or https only.">
          {(a) => <input {...a} type="url" value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="off" data-autofocus />}
        </Field>
        <Field label="Description" optional error={fields.description}>
          {(a) => <input {...a} value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" />}
        </Field>
        <fieldset className="field events-fieldset">
          <legend>Events (none ticked: every event)</legend>
          {WEBHOOK_EVENTS.map((ev) => (
            <div key={ev} className="check">
              <input id={`event-${ev}`} type="checkbox" checked={events.includes(ev)} onChange={(e) => setEvents((cur) => (e.target.checked ? [...cur, ev] : cur.filter((x) => x !== ev)))} />
              <label htmlFor={`event-${ev}`} className="mono">
                {ev}
              </label>
            </div>
          ))}
        </fieldset>
        <div className="check">
          <input id="webhook-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          <label htmlFor="webhook-enabled">Enabled</label>
        </div>
        <FormActions error={error} busy={busy} submitLabel={endpoint ? 'Save endpoint' : 'Create endpoint'} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function DeliveryLog({ accountId, endpoint, onClose }: { accountId: string; endpoint: WebhookEndpoint; onClose: () => void }) {
  const [version, setVersion] = useState(0);
  const toast = useToast();
  const log = useAsync(() => api.webhookDeliveries(accountId, endpoint.id), [accountId, endpoint.id, version]);
  const attemptsOf = (id: string) => (log.data?.attempts ?? []).filter((a) => a.deliveryId === id);
  return (
    <Dialog title={`Deliveries to ${endpoint.url}`} onClose={onClose} wide>
      <div className="panel-tools">
        <Button small onClick={() => setVersion((v) => v + 1)}>
          Refresh
        </Button>
      </div>
      <Loading loading={log.loading && !log.data} label="Loading deliveries…" />
      {log.error && <FormError error={log.error.message} />}
      {log.data && log.data.deliveries.length === 0 && <EmptyState title="Nothing delivered yet" />}
      {log.data && log.data.deliveries.length > 0 && (
        <ListTable label="Deliveries" columns={['Event', 'Status', 'Last attempt']}>
              {log.data.deliveries.map((d) => {
                const last = attemptsOf(d.id)[0];
                return (
                  <tr key={d.id} data-delivery={d.id}>
                    <td data-label="Event">
                      <div className="mono">{d.eventType}</div>
                      <div className="muted small">{formatTime(d.createdAt)}</div>
                    </td>
                    <td data-label="Status">
                      <span className={`badge ${d.status === 'succeeded' ? 'badge-active' : d.status === 'failed' ? 'badge-expired' : 'badge-expiring_soon'}`}>{d.status}</span>{' '}
                      <span className="small">
                        {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
                      </span>
                    </td>
                    <td data-label="Last attempt">
                      {last ? (
                        <span className="small">
                          {last.statusCode ?? 'no answer'} · {last.durationMs} ms{last.error ? ` · ${last.error}` : ''}
                        </span>
                      ) : (
                        <span className="muted">not yet</span>
                      )}
                    </td>
                    <td className="cell-actions">
                      <Button
                        small
                        label={`Replay ${d.eventType} delivery ${d.id}`}
                        onClick={() =>
                          void api.replayDelivery(accountId, endpoint.id, d.id).then(
                            () => {
                              toast(`Delivery of ${d.eventType} queued again.`);
                              setVersion((v) => v + 1);
                            },
                            (e: unknown) => toast(e instanceof Error ? e.message : String(e)),
                          )
                        }
                      >
                        Replay
                      </Button>
                    </td>
                  </tr>
                );
              })}
        </ListTable>
      )}
    </Dialog>
  );
}

/** A scrollable table with its column heads and a last, unlabelled column for the row's actions. */
function ListTable({ label, columns, children }: { label: string; columns: string[]; children: ReactNode }) {
  return (
    <ScrollRegion label={label}>
      <table className="table" aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </ScrollRegion>
  );
}
