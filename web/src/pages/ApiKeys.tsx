/**
 * API keys and their tokens for one owner (the signed-in user, or a service account): list, search,
 * pages; create, edit and delete keys; create, edit, rotate and delete tokens, each new token shown
 * once.
 */
import { useCallback, useState, type FormEvent } from 'react';
import { api, ApiError, type ApiKey, type ApiKeyAggregate, type FieldErrors, type Owner, type TokenState, type TokenView } from '../api';
import { clientName, formatDateInput, formatDay, formatTags, formatTime, identifierFromName, identifierProblem, parseDate, parseTags } from '../format';
import { Button, ConfirmDialog, Dialog, EmptyState, Field, FormActions, FormError, Loading, MoreMenu, Pager, SearchBox, TokenRevealDialog, useAsync, useToast } from '../ui';

const PAGE_SIZE = 10;

type Modal =
  | { kind: 'createKey' }
  | { kind: 'editKey'; key: ApiKey }
  | { kind: 'deleteKey'; key: ApiKey; tokens: number }
  | { kind: 'createToken'; key: ApiKey }
  | { kind: 'editToken'; token: TokenView }
  | { kind: 'rotateToken'; token: TokenView }
  | { kind: 'deleteToken'; token: TokenView }
  | { kind: 'reveal'; token: string; title: string };

export function ApiKeysPanel({ owner, heading, headingLevel = 1 }: { owner: Owner; heading: string; headingLevel?: 1 | 2 }) {
  const [pageIndex, setPageIndex] = useState(0);
  const [search, setSearch] = useState('');
  const [modal, setModal] = useState<Modal | null>(null);
  const [version, setVersion] = useState(0);
  const toast = useToast();
  const ownerKey = `${owner.type}:${owner.parentIdentifier}:${owner.scope.org ?? ''}:${owner.scope.project ?? ''}`;
  const keys = useAsync(() => api.listKeys(owner, { pageIndex, pageSize: PAGE_SIZE, searchTerm: search }), [ownerKey, pageIndex, search, version]);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  const onSearch = useCallback((s: string) => {
    setSearch(s);
    setPageIndex(0);
  }, []);
  const H = headingLevel === 1 ? 'h1' : 'h2';
  const close = () => setModal(null);

  return (
    <section className="panel" aria-labelledby={`keys-${ownerKey}`}>
      <div className="panel-head">
        <H id={`keys-${ownerKey}`}>{heading}</H>
        <div className="panel-tools">
          <SearchBox label="Search API keys" value={search} onChange={onSearch} />
          <Button variant="primary" onClick={() => setModal({ kind: 'createKey' })}>
            + API Key
          </Button>
        </div>
      </div>
      <Loading loading={keys.loading && !keys.data} label="Loading API keys…" />
      {keys.error && <FormError error={keys.error.message} />}
      {keys.data && keys.data.content.length === 0 && (
        search ? (
          <EmptyState title={`No API key matches “${search}”.`}>Search looks at names, identifiers and tags. Clear the search to see every key.</EmptyState>
        ) : (
          <EmptyState title="No API keys yet" action={<Button variant="primary" onClick={() => setModal({ kind: 'createKey' })}>Create an API key</Button>}>
            An API key holds tokens. Create a key, then add a token to it and use the token in the <code>X-Api-Key</code> header.
          </EmptyState>
        )
      )}
      <ul className="key-list">
        {keys.data?.content.map((k) => (
          <KeyCard
            key={k.apiKey.identifier}
            owner={owner}
            agg={k}
            version={version}
            onModal={setModal}
          />
        ))}
      </ul>
      {keys.data && <Pager noun="API keys" pageIndex={keys.data.pageIndex} totalPages={keys.data.totalPages} totalItems={keys.data.totalItems} onPage={setPageIndex} />}

      {modal?.kind === 'createKey' && (
        <KeyDialog
          owner={owner}
          onClose={close}
          onSaved={(k) => {
            close();
            toast(`API key ${k.name} created. Add a token to it.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'editKey' && (
        <KeyDialog
          owner={owner}
          existing={modal.key}
          onClose={close}
          onSaved={(k) => {
            close();
            toast(`API key ${k.name} saved.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'deleteKey' && (
        <ConfirmDialog
          title={`Delete API key ${modal.key.name}?`}
          message={
            <p>
              This deletes the key <strong>{modal.key.name}</strong> and{' '}
              <strong>
                {modal.tokens === 1 ? 'its 1 token' : `all ${modal.tokens} of its tokens`}
              </strong>
              . Anything using those tokens stops working at once. This cannot be undone.
            </p>
          }
          confirmLabel="Delete key and its tokens"
          onClose={close}
          onConfirm={async () => {
            await api.deleteKey(owner, modal.key.identifier);
            toast(`API key ${modal.key.name} and its tokens deleted.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'createToken' && (
        <TokenDialog
          owner={owner}
          apiKey={modal.key}
          onClose={close}
          onCreated={(token) => {
            setModal({ kind: 'reveal', token, title: 'Token created' });
            refresh();
          }}
        />
      )}
      {modal?.kind === 'editToken' && (
        <TokenDialog
          owner={owner}
          existing={modal.token}
          onClose={close}
          onSaved={() => {
            close();
            toast(`Token ${modal.token.name} saved.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'rotateToken' && (
        <RotateDialog
          owner={owner}
          token={modal.token}
          onClose={close}
          onRotated={(token) => {
            setModal({ kind: 'reveal', token, title: 'Token rotated' });
            refresh();
          }}
        />
      )}
      {modal?.kind === 'deleteToken' && (
        <ConfirmDialog
          title={`Delete token ${modal.token.name}?`}
          message={<p>Anything using the token <strong>{modal.token.name}</strong> stops working at once. This cannot be undone.</p>}
          confirmLabel="Delete token"
          onClose={close}
          onConfirm={async () => {
            await api.deleteToken(owner, modal.token);
            toast(`Token ${modal.token.name} deleted.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'reveal' && <TokenRevealDialog token={modal.token} title={modal.title} onClose={close} />}
    </section>
  );
}

function KeyCard({ owner, agg, version, onModal }: { owner: Owner; agg: ApiKeyAggregate; version: number; onModal: (m: Modal) => void }) {
  const k = agg.apiKey;
  const [open, setOpen] = useState(true);
  const tokens = useAsync(() => api.listTokens(owner, k.identifier), [version, k.identifier]);
  const count = tokens.data?.total ?? agg.tokensCount;
  const tokensId = `tokens-${k.identifier}`;
  return (
    <li className="key-card" aria-label={`API key ${k.name}`}>
      <div className="key-head">
        <button type="button" className="disclosure" aria-expanded={open} aria-controls={tokensId} onClick={() => setOpen((o) => !o)}>
          <span className="chevron" aria-hidden="true">
            {open ? '▾' : '▸'}
          </span>
          <span className="key-name">{k.name}</span>
        </button>
        <span className="muted mono key-id">{k.identifier}</span>
        <span className="count">{count === 1 ? '1 token' : `${count} tokens`}</span>
        <div className="key-actions">
          <Button small onClick={() => onModal({ kind: 'createToken', key: k })} label={`Add a token to ${k.name}`}>
            + Token
          </Button>
          <MoreMenu
            label={`More options for API key ${k.name}`}
            items={[
              { label: 'Edit', onSelect: () => onModal({ kind: 'editKey', key: k }) },
              { label: 'Delete', danger: true, onSelect: () => onModal({ kind: 'deleteKey', key: k, tokens: count }) },
            ]}
          />
        </div>
      </div>
      {(k.description || Object.keys(k.tags ?? {}).length > 0) && (
        <div className="key-meta">
          {k.description && <span>{k.description}</span>}
          <Tags tags={k.tags} />
        </div>
      )}
      <div id={tokensId} hidden={!open}>
        <Loading loading={tokens.loading && !tokens.data} label="Loading tokens…" />
        {tokens.error && <FormError error={tokens.error.message} />}
        {tokens.data && tokens.data.items.length === 0 && (
          <p className="empty-inline">
            No tokens yet. Select <strong>+ Token</strong> to generate one; it is shown once.
          </p>
        )}
        {tokens.data && tokens.data.items.length > 0 && <TokenTable tokens={tokens.data.items} onModal={onModal} keyName={k.name} />}
      </div>
    </li>
  );
}

const STATE_LABEL: Record<TokenState, string> = {
  active: 'Active',
  expiring_soon: 'Expiring soon',
  expired: 'Expired',
  rotated_out: 'Rotated out',
  not_yet_valid: 'Not yet valid',
};

function TokenTable({ tokens, onModal, keyName }: { tokens: TokenView[]; onModal: (m: Modal) => void; keyName: string }) {
  return (
    <div className="table-wrap">
      <table className="table token-table" aria-label={`Tokens of ${keyName}`}>
        <thead>
          <tr>
            <th scope="col">Token</th>
            <th scope="col">State</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => {
            const rotated = t.scheduledExpireTime !== null;
            const expiry = t.scheduledExpireTime ?? t.validTo;
            return (
              <tr key={t.id} data-token={t.identifier}>
                <td data-label="Token">
                  <div className="token-name">{t.name}</div>
                  <div className="muted mono small">{t.identifier}</div>
                  {t.description && <div className="small">{t.description}</div>}
                  <Tags tags={t.tags} />
                </td>
                <td data-label="State">
                  <span className={`badge badge-${t.state}`}>{rotated && t.state === 'expiring_soon' ? 'Rotated, still valid' : STATE_LABEL[t.state]}</span>
                </td>
                <td data-label="Expires">{rotated ? `${formatTime(expiry)} (rotated)` : formatDay(expiry)}</td>
                <td data-label="Last used">
                  {t.lastUsedAt ? (
                    <>
                      <div>{formatTime(t.lastUsedAt)}</div>
                      <div className="muted small">
                        {[t.lastUsedIp, clientName(t.lastUsedUserAgent)].filter(Boolean).join(' · ')}
                      </div>
                    </>
                  ) : (
                    <span className="muted">Never</span>
                  )}
                </td>
                <td className="cell-actions">
                  <MoreMenu
                    label={`More options for token ${t.name}`}
                    items={
                      rotated
                        ? [{ label: 'Delete', danger: true, onSelect: () => onModal({ kind: 'deleteToken', token: t }) }]
                        : [
                            { label: 'Edit', onSelect: () => onModal({ kind: 'editToken', token: t }) },
                            { label: 'Rotate Token', onSelect: () => onModal({ kind: 'rotateToken', token: t }) },
                            { label: 'Delete', danger: true, onSelect: () => onModal({ kind: 'deleteToken', token: t }) },
                          ]
                    }
                  />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function Tags({ tags }: { tags: Record<string, string> | null | undefined }) {
  const entries = Object.entries(tags ?? {});
  if (entries.length === 0) return null;
  return (
    <ul className="tags" aria-label="Tags">
      {entries.map(([k, v]) => (
        <li key={k} className="tag">
          {v ? `${k}:${v}` : k}
        </li>
      ))}
    </ul>
  );
}

// ---- forms ------------------------------------------------------------------------------------------

/** Name, identifier (derived from the name until edited by hand; fixed once created), description, tags. */
export function useNamedForm(existing?: { name: string; identifier: string; description: string | null; tags: Record<string, string> }) {
  const [name, setName] = useState(existing?.name ?? '');
  const [identifier, setIdentifier] = useState(existing?.identifier ?? '');
  const [idTouched, setIdTouched] = useState(false);
  const [description, setDescription] = useState(existing?.description ?? '');
  const [tags, setTags] = useState(formatTags(existing?.tags));
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return {
    name,
    identifier,
    description,
    tags,
    fields,
    error,
    busy,
    setName: (v: string) => {
      setName(v);
      if (!existing && !idTouched) setIdentifier(identifierFromName(v));
    },
    setIdentifier: (v: string) => {
      setIdTouched(true);
      setIdentifier(v);
    },
    setDescription,
    setTags,
    setFields,
    /** Runs `fn`, showing its errors next to their fields, or above the buttons. */
    async run(local: FieldErrors, fn: () => Promise<void>) {
      setFields(local);
      setError(null);
      if (Object.keys(local).length > 0) return;
      setBusy(true);
      try {
        await fn();
      } catch (e) {
        const ae = e instanceof ApiError ? e : new ApiError(String(e), 0, '');
        setFields(ae.fields);
        const known = ['name', 'identifier', 'description', 'tags', 'validTo', 'email', 'rotateTimestamp', 'roleIdentifier'];
        const shown = Object.keys(ae.fields).some((f) => known.includes(f));
        setError(shown ? null : ae.message);
      } finally {
        setBusy(false);
      }
    },
  };
}

type NamedForm = ReturnType<typeof useNamedForm>;

export function localProblems(f: NamedForm, withIdentifier: boolean): FieldErrors {
  const out: FieldErrors = {};
  if (!f.name.trim()) out.name = 'Enter a name.';
  else if (!/^[A-Za-z0-9\-_. /]*$/.test(f.name)) out.name = 'can only contain alphanumeric, dot, hyphen, forward slash and underscore characters.';
  if (withIdentifier) {
    const p = identifierProblem(f.identifier);
    if (p) out.identifier = p;
  }
  if (f.description.length > 1024) out.description = 'can be at most 1024 characters.';
  return out;
}

export function NamedFields({ form, identifierLocked, what }: { form: NamedForm; identifierLocked: boolean; what: string }) {
  return (
    <>
      <Field label="Name" error={form.fields.name}>
        {(a) => <input {...a} value={form.name} onChange={(e) => form.setName(e.target.value)} autoComplete="off" data-autofocus />}
      </Field>
      <Field
        label="Identifier"
        error={form.fields.identifier}
        hint={identifierLocked ? `The identifier of a ${what} cannot change.` : 'Made from the name; edit it if you like. It cannot change later.'}
      >
        {(a) => <input {...a} className="mono" value={form.identifier} onChange={(e) => form.setIdentifier(e.target.value)} disabled={identifierLocked} autoComplete="off" spellCheck={false} />}
      </Field>
      <Field label="Description" optional error={form.fields.description}>
        {(a) => <textarea {...a} rows={2} value={form.description} onChange={(e) => form.setDescription(e.target.value)} />}
      </Field>
      <Field label="Tags" optional error={form.fields.tags} hint="Comma-separated, as key:value or key. Example: env:prod, team:payments">
        {(a) => <input {...a} value={form.tags} onChange={(e) => form.setTags(e.target.value)} autoComplete="off" />}
      </Field>
    </>
  );
}

function KeyDialog({ owner, existing, onClose, onSaved }: { owner: Owner; existing?: ApiKey; onClose: () => void; onSaved: (k: ApiKey) => void }) {
  const form = useNamedForm(existing);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void form.run(localProblems(form, !existing), async () => {
      const body = { identifier: form.identifier, name: form.name.trim(), description: form.description, tags: parseTags(form.tags) };
      const saved = existing ? await api.updateKey({ ...existing, ...body, identifier: existing.identifier }) : await api.createKey(owner, body);
      onSaved(saved);
    });
  };
  return (
    <Dialog title={existing ? `Edit API key ${existing.name}` : 'New API key'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <NamedFields form={form} identifierLocked={!!existing} what="key" />
        <FormActions error={form.error} busy={form.busy} submitLabel="Save" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function TokenDialog(props: { owner: Owner; apiKey?: ApiKey; existing?: TokenView; onClose: () => void; onCreated?: (token: string) => void; onSaved?: () => void }) {
  const { existing } = props;
  const form = useNamedForm(existing);
  const [setExpiry, setSetExpiry] = useState(!!existing);
  const [expiry, setExpiryText] = useState(existing ? formatDateInput(existing.validTo) : '');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const local = localProblems(form, !existing);
    let validTo: number | null = null;
    if (setExpiry) {
      const d = parseDate(expiry);
      if (d === null) local.validTo = 'Enter an expiration date as mm/dd/yyyy.';
      else if (typeof d === 'string') local.validTo = d;
      else validTo = d;
    }
    void form.run(local, async () => {
      const body = { name: form.name.trim(), description: form.description, tags: parseTags(form.tags), validTo };
      if (existing) {
        await api.updateToken(props.owner, existing, body);
        props.onSaved?.();
      } else {
        const token = await api.createToken(props.owner, props.apiKey!.identifier, { ...body, identifier: form.identifier });
        props.onCreated?.(token);
      }
    });
  };
  const expiryDefault = props.apiKey?.defaultTimeToExpireToken ? Math.round(props.apiKey.defaultTimeToExpireToken / 86_400_000) : 30;
  return (
    <Dialog title={existing ? `Edit token ${existing.name}` : `New token for ${props.apiKey!.name}`} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <NamedFields form={form} identifierLocked={!!existing} what="token" />
        {!existing && (
          <div className="check">
            <input id="set-expiry" type="checkbox" checked={setExpiry} onChange={(e) => setSetExpiry(e.target.checked)} />
            <label htmlFor="set-expiry">Set Expiration Date</label>
          </div>
        )}
        {setExpiry ? (
          <Field label="Expiration date" error={form.fields.validTo} hint="mm/dd/yyyy. The token works until the end of that day (your time).">
            {(a) => <input {...a} inputMode="numeric" placeholder="mm/dd/yyyy" value={expiry} onChange={(e) => setExpiryText(e.target.value)} autoComplete="off" />}
          </Field>
        ) : (
          <p className="hint">Without a date, the token expires after the key's default lifetime ({expiryDefault} days).</p>
        )}
        <FormActions error={form.error} busy={form.busy} submitLabel={existing ? 'Save' : 'Generate Token'} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

function RotateDialog({ owner, token, onClose, onRotated }: { owner: Owner; token: TokenView; onClose: () => void; onRotated: (t: string) => void }) {
  const [keep, setKeep] = useState(false);
  const [until, setUntil] = useState('');
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let at: number | null = null;
    if (keep) {
      const d = parseDate(until);
      if (d === null || typeof d === 'string') {
        setFields({ rotateTimestamp: d === null ? 'Enter the date until which the old token keeps working, as mm/dd/yyyy.' : d });
        return;
      }
      at = d;
    }
    setBusy(true);
    setFields({});
    setError(null);
    try {
      onRotated(await api.rotateToken(owner, token, at));
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(String(err), 0, '');
      if (ae.fields.rotateTimestamp || ae.fields.validTo) setFields({ rotateTimestamp: ae.fields.rotateTimestamp ?? ae.fields.validTo! });
      else setError(ae.message);
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Rotate token ${token.name}`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p>
          Rotating makes a new token with the same name, identifier and expiry ({formatDay(token.validTo)}). The new token is shown once.
        </p>
        <div className="check">
          <input id="keep-old" type="checkbox" checked={keep} onChange={(e) => setKeep(e.target.checked)} />
          <label htmlFor="keep-old">Keep the old token working until a date</label>
        </div>
        {keep ? (
          <Field label="Old token works until" error={fields.rotateTimestamp} hint="mm/dd/yyyy, until the end of that day (your time). Use it to move clients over without downtime.">
            {(a) => <input {...a} inputMode="numeric" placeholder="mm/dd/yyyy" value={until} onChange={(e) => setUntil(e.target.value)} autoComplete="off" />}
          </Field>
        ) : (
          <p className="hint">The old token stops working as soon as you rotate.</p>
        )}
        <FormActions error={error} busy={busy} submitLabel="Rotate Token" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
