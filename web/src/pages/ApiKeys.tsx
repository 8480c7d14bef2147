/**
 * API keys and their tokens for one owner (the signed-in user, or a service account): list, search
 * (also by a pasted token, whose secret never leaves the page), pages kept in the URL; create, edit
 * and delete keys; create, edit, rotate and delete tokens, each new token shown once.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError, type ApiKey, type ApiKeyAggregate, type FieldErrors, type Owner, type TokenState, type TokenView } from '../api';
import { param, setParams } from '../app';
import { explainLimit } from '../errors';
import {
  clientName,
  formatDateInput,
  formatDateTimeInput,
  formatDay,
  formatTags,
  formatTime,
  identifierFromName,
  identifierProblem,
  NAME_HINT,
  nameProblem,
  parseDate,
  parseDateTime,
  parseTags,
} from '../format';
import { UsagePanel } from './Usage';
import { Button, ConfirmDialog, Dialog, EmptyState, Field, FormActions, FormError, Loading, MoreMenu, Pager, TokenRevealDialog, useAsync, useToast } from '../ui';

const PAGE_SIZE = 10;

type Modal =
  | { kind: 'createKey' }
  | { kind: 'editKey'; key: ApiKey }
  | { kind: 'deleteKey'; key: ApiKey; tokens: number }
  | { kind: 'createToken'; key: ApiKey; live: number }
  | { kind: 'editToken'; token: TokenView }
  | { kind: 'rotateToken'; token: TokenView; live: number }
  | { kind: 'deleteToken'; token: TokenView }
  | { kind: 'reveal'; token: string; title: string; note?: ReactNode };

/** The non-secret start of a token: `pat.<account>.<token id>` (the secret follows it). */
export function tokenPrefix(t: Pick<TokenView, 'apiKeyType' | 'id'>, accountId: string): string {
  return `${t.apiKeyType === 'USER' ? 'pat' : 'sat'}.${accountId}.${t.id}`;
}

/** The token id in a pasted token, its prefix, or a bare id; null for anything else. */
export function tokenIdOf(text: string): string | null {
  const t = text.trim();
  const m = /^(?:pat|sat)\.[^.\s]+\.([0-9a-f]{24})(?:\.|$)/.exec(t) ?? /^([0-9a-f]{24})$/.exec(t);
  return m ? m[1]! : null;
}

/** How a token is named where two rows can share a name (a rotated token and its successor). */
export function tokenTitle(t: TokenView): string {
  return t.scheduledExpireTime !== null ? `${t.name} (old, rotated)` : t.name;
}

/** Focusable element by id, for moving the focus after a deletion. */
const byId = (id: string) => document.getElementById(id);
const keyMenuId = (k: string) => `key-menu-${k}`;

/**
 * Search that knows tokens: a pasted token is cut to its non-secret prefix in the box at once, so
 * the secret is never sent, kept in the URL, or left on screen.
 */
function KeySearch({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const [text, setText] = useState(value);
  const [cut, setCut] = useState(false);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    const t = setTimeout(() => text !== value && onChange(text), 250);
    return () => clearTimeout(t);
  }, [text, value, onChange]);
  return (
    <div className="search-wrap">
      <input
        type="search"
        className="search"
        aria-label="Search API keys, or paste a token to find it"
        aria-describedby="key-search-note"
        placeholder="Search, or paste a token"
        value={text}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => {
          const v = e.target.value;
          const m = /^((?:pat|sat)\.[^.\s]+\.[0-9a-f]{24})\.\S+$/.exec(v.trim());
          setCut(!!m);
          setText(m ? m[1]! : v);
        }}
      />
      <span id="key-search-note" className="sr-only" aria-live="polite">
        {cut ? 'A token was pasted: only its prefix is kept and searched; the secret was removed.' : ''}
      </span>
    </div>
  );
}

export function ApiKeysPanel({ owner, heading, headingLevel = 1 }: { owner: Owner; heading: string; headingLevel?: 1 | 2 }) {
  const pageIndex = Math.max(0, (Number(param('page')) || 1) - 1);
  const setPageIndex = useCallback((i: number) => setParams({ page: i > 0 ? String(i + 1) : null }), []);
  const [search, setSearch] = useState('');
  const [modal, setModal] = useState<Modal | null>(null);
  const [version, setVersion] = useState(0);
  const toast = useToast();
  const ownerKey = `${owner.type}:${owner.parentIdentifier}:${owner.scope.org ?? ''}:${owner.scope.project ?? ''}`;
  const lookupId = tokenIdOf(search);
  const keys = useAsync(async () => {
    if (!lookupId) return { page: await api.listKeys(owner, { pageIndex, pageSize: PAGE_SIZE, searchTerm: search }), found: null };
    // A token (or its prefix, or id): find its row, then show only its key.
    const found = (await api.findToken(owner, lookupId)).items.find((t) => t.id === lookupId) ?? null;
    if (!found) return { page: null, found: null };
    const page = await api.listKeys(owner, { pageIndex: 0, pageSize: 100, searchTerm: found.apiKeyIdentifier });
    return { page: { ...page, content: page.content.filter((k) => k.apiKey.identifier === found.apiKeyIdentifier), totalPages: 1 }, found };
  }, [ownerKey, pageIndex, search, version]);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  const onSearch = useCallback((s: string) => {
    setSearch(s);
    setPageIndex(0);
  }, [setPageIndex]);
  const H = headingLevel === 1 ? 'h1' : 'h2';
  const close = () => setModal(null);
  const addKeyId = `add-key-${ownerKey}`;
  const page = keys.data?.page ?? null;
  const found = keys.data?.found ?? null;
  const foundRef = useRef<string | null>(null);
  useEffect(() => {
    // Bring a found token's row into view once.
    if (found && foundRef.current !== found.id) {
      foundRef.current = found.id;
      setTimeout(() => document.querySelector(`tr[data-token-id="${found.id}"]`)?.scrollIntoView({ block: 'center' }), 50);
    }
  }, [found]);

  return (
    <section className="panel" aria-labelledby={`keys-${ownerKey}`}>
      <div className="panel-head">
        <H id={`keys-${ownerKey}`}>{heading}</H>
        <div className="panel-tools">
          <KeySearch value={search} onChange={onSearch} />
          <Button id={addKeyId} variant="primary" onClick={() => setModal({ kind: 'createKey' })}>
            + API Key
          </Button>
        </div>
      </div>
      <Loading loading={keys.loading && !keys.data} label="Loading API keys…" />
      {keys.error && <FormError error={keys.error.message} />}
      {lookupId && keys.data && (
        <p className={found ? 'notice' : 'form-error'} role="status">
          {found ? (
            <>
              That token is <strong>{tokenTitle(found)}</strong> of the key <strong>{found.apiKeyIdentifier}</strong>, marked below.
            </>
          ) : (
            <>No token of {heading === 'My API Keys' ? 'yours' : 'this owner'} has that prefix here. It may have been deleted, or belong to someone else.</>
          )}
        </p>
      )}
      {page && page.content.length === 0 && !lookupId && (
        search ? (
          <EmptyState title={`No API key matches “${search}”.`}>Search looks at names, identifiers and tags. Clear the search to see every key.</EmptyState>
        ) : (
          <EmptyState title="No API keys yet" action={<Button variant="primary" onClick={() => setModal({ kind: 'createKey' })}>Create an API key</Button>}>
            An API key holds tokens. Create a key, then add a token to it and use the token in the <code>X-Api-Key</code> header.
          </EmptyState>
        )
      )}
      <ul className="key-list">
        {page?.content.map((k) => (
          <KeyCard key={k.apiKey.identifier} owner={owner} agg={k} version={version} onModal={setModal} foundId={found?.id ?? null} />
        ))}
      </ul>
      {page && <Pager noun="API keys" pageIndex={page.pageIndex} totalPages={page.totalPages} totalItems={page.totalItems} onPage={setPageIndex} />}

      {modal?.kind === 'createKey' && (
        <KeyDialog
          owner={owner}
          keysHere={page?.totalItems ?? 0}
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
          keysHere={page?.totalItems ?? 0}
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
              This deletes the key <strong>{modal.key.name}</strong> ({modal.key.identifier}) and{' '}
              <strong>{modal.tokens === 0 ? 'it has no tokens' : modal.tokens === 1 ? 'its 1 token' : `all ${modal.tokens} of its tokens`}</strong>
              . Anything using those tokens stops working at once. This cannot be undone.
            </p>
          }
          confirmLabel="Delete key and its tokens"
          onClose={close}
          afterConfirmFocus={() => byId(addKeyId)}
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
          live={modal.live}
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
          live={0}
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
          live={modal.live}
          onClose={close}
          onRotated={(token, note) => {
            setModal({ kind: 'reveal', token, title: 'Token rotated', note });
            refresh();
          }}
        />
      )}
      {modal?.kind === 'deleteToken' && (
        <ConfirmDialog
          title={`Delete token ${tokenTitle(modal.token)}?`}
          message={
            <>
              <p>
                Anything using the token <strong>{tokenTitle(modal.token)}</strong> stops working at once. This cannot be undone.
              </p>
              <p className="small">
                Its prefix: <code className="token-prefix">{tokenPrefix(modal.token, owner.scope.accountId)}</code>
                {modal.token.scheduledExpireTime !== null && <> · replaced by a rotation, works until {formatTime(modal.token.scheduledExpireTime)}</>}
              </p>
            </>
          }
          confirmLabel="Delete token"
          onClose={close}
          afterConfirmFocus={() => byId(keyMenuId(modal.token.apiKeyIdentifier))}
          onConfirm={async () => {
            await api.deleteToken(owner, modal.token);
            toast(`Token ${tokenTitle(modal.token)} deleted.`);
            refresh();
          }}
        />
      )}
      {modal?.kind === 'reveal' && <TokenRevealDialog token={modal.token} title={modal.title} note={modal.note} onClose={close} />}
    </section>
  );
}

function KeyCard({ owner, agg, version, onModal, foundId }: { owner: Owner; agg: ApiKeyAggregate; version: number; onModal: (m: Modal) => void; foundId: string | null }) {
  const k = agg.apiKey;
  const [open, setOpen] = useState(true);
  const [showUsage, setShowUsage] = useState(false);
  const tokens = useAsync(() => api.listTokens(owner, k.identifier), [version, k.identifier]);
  const count = tokens.data?.total ?? agg.tokensCount;
  const tokensId = `tokens-${k.identifier}`;
  const live = tokens.data?.items.filter((t) => t.scheduledExpireTime === null).length ?? 0;
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
          <Button small variant="ghost" expanded={showUsage} controls={`usage-${k.identifier}`} onClick={() => setShowUsage((v) => !v)} label={`Usage of ${k.name}`}>
            Usage
          </Button>
          <Button small onClick={() => onModal({ kind: 'createToken', key: k, live })} label={`Add a token to ${k.name}`}>
            + Token
          </Button>
          <MoreMenu
            id={keyMenuId(k.identifier)}
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
        {showUsage && (
          <div id={`usage-${k.identifier}`}>
            <UsagePanel owner={owner} apiKeyIdentifier={k.identifier} keyName={k.name} tokens={tokens.data?.items ?? []} />
          </div>
        )}
        {tokens.data && tokens.data.items.length > 0 && <TokenTable tokens={tokens.data.items} onModal={onModal} keyName={k.name} accountId={owner.scope.accountId} foundId={foundId} live={live} />}
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

function TokenTable(props: { tokens: TokenView[]; onModal: (m: Modal) => void; keyName: string; accountId: string; foundId: string | null; live: number }) {
  const { tokens, onModal, keyName } = props;
  return (
    <ScrollRegion label={`Tokens of ${keyName}`}>
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
              <tr key={t.id} data-token={t.identifier} data-token-id={t.id} className={props.foundId === t.id ? 'row-found' : undefined} aria-current={props.foundId === t.id ? 'true' : undefined}>
                <td data-label="Token">
                  <div className="token-name">{tokenTitle(t)}</div>
                  <div className="mono token-prefix" title="The token's non-secret prefix: the token you hold starts with it">
                    {tokenPrefix(t, props.accountId)}
                  </div>
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
                    id={`token-menu-${t.id}`}
                    label={`More options for token ${tokenTitle(t)}`}
                    items={
                      rotated
                        ? [{ label: 'Delete', danger: true, onSelect: () => onModal({ kind: 'deleteToken', token: t }) }]
                        : [
                            { label: 'Edit', onSelect: () => onModal({ kind: 'editToken', token: t }) },
                            { label: 'Rotate Token', onSelect: () => onModal({ kind: 'rotateToken', token: t, live: props.live }) },
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
    </ScrollRegion>
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
      // A server's answer about the old name (a duplicate) no longer holds.
      setFields(({ name: _n, identifier: _i, ...rest }) => rest);
      if (!existing && !idTouched) setIdentifier(identifierFromName(v));
    },
    setIdentifier: (v: string) => {
      setIdTouched(true);
      setIdentifier(v);
    },
    setDescription,
    setTags,
    setFields,
    /**
     * Runs `fn`, showing its errors next to their fields, or above the buttons; `explain` turns a
     * server's terse answer into words that say what to do.
     */
    async run(local: FieldErrors, fn: () => Promise<void>, explain?: (e: ApiError) => { fields?: FieldErrors; message?: string } | null) {
      setFields(local);
      setError(null);
      if (Object.keys(local).length > 0) return;
      setBusy(true);
      try {
        await fn();
      } catch (e) {
        const ae = e instanceof ApiError ? e : new ApiError(String(e), 0, '');
        const better = explain?.(ae);
        if (better) {
          setFields(better.fields ?? {});
          setError(better.message ?? null);
          return;
        }
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
  else {
    const p = nameProblem(f.name);
    if (p) out.name = p;
  }
  if (withIdentifier) {
    const p = identifierProblem(f.identifier);
    if (p) out.identifier = p;
  }
  if (f.description.length > 1024) out.description = 'can be at most 1024 characters.';
  return out;
}

/**
 * The server's answer to a duplicate identifier, on both fields: the identifier is made from the
 * name, so the name is what most people change.
 */
export function explainDuplicate(e: ApiError, what: string, identifier: string, identifierLocked: boolean): { fields: FieldErrors } | null {
  if (e.code !== 'DUPLICATE_FIELD') return null;
  return {
    fields: {
      identifier: `The identifier ${identifier} already exists: another ${what} here has it.`,
      ...(identifierLocked ? {} : { name: `Another ${what} here already has the identifier this name makes (${identifier}). Choose another name, or change the identifier below.` }),
    },
  };
}

/** Keeps a wide table reachable: a scrollable region takes the focus (arrow keys scroll it) only while it does scroll. */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);
  useEffect(() => {
    const el = ref.current!;
    const check = () => setScrolls(el.scrollWidth > el.clientWidth + 1);
    check();
    const ro = new ResizeObserver(check);
    ro.observe(el);
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    return () => ro.disconnect();
  }, []);
  return (
    <div ref={ref} className="table-wrap" {...(scrolls ? { tabIndex: 0, role: 'region', 'aria-label': `${label} (scrolls sideways)` } : {})}>
      {children}
    </div>
  );
}

export function NamedFields({ form, identifierLocked, what }: { form: NamedForm; identifierLocked: boolean; what: string }) {
  return (
    <>
      <Field label="Name" error={form.fields.name ?? nameProblem(form.name) ?? undefined} hint={NAME_HINT}>
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

function KeyDialog({ owner, existing, keysHere, onClose, onSaved }: { owner: Owner; existing?: ApiKey; keysHere: number; onClose: () => void; onSaved: (k: ApiKey) => void }) {
  const form = useNamedForm(existing);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void form.run(
      localProblems(form, !existing),
      async () => {
        const body = { identifier: form.identifier, name: form.name.trim(), description: form.description, tags: parseTags(form.tags) };
        const saved = existing ? await api.updateKey({ ...existing, ...body, identifier: existing.identifier }) : await api.createKey(owner, body);
        onSaved(saved);
      },
      (err) => explainDuplicate(err, 'API key', existing?.identifier ?? form.identifier, !!existing) ?? explainLimit(err, { what: 'key', count: keysHere, owner }),
    );
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

const DAY_MS = 86_400_000;

/** A date picker with quick choices (in 30 days, 90 days, a year), for a token's expiry. */
function ExpiryField(props: { label: string; value: string; onChange: (v: string) => void; error: string | undefined; hint: string }) {
  const presets: Array<[string, number]> = [
    ['30 days', 30],
    ['90 days', 90],
    ['1 year', 365],
  ];
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      {(a) => (
        <div className="grace">
          <input {...a} type="date" min={formatDateInput(Date.now())} value={props.value} onChange={(e) => props.onChange(e.target.value)} />
          <div className="presets" role="group" aria-label="Quick expiry choices">
            {presets.map(([label, days]) => (
              <Button key={label} small onClick={() => props.onChange(formatDateInput(Date.now() + days * DAY_MS))}>
                In {label}
              </Button>
            ))}
          </div>
        </div>
      )}
    </Field>
  );
}

/** The server's "validTo cannot be set before current time", in words and on the date field. */
function explainPast(e: ApiError, field: string): { fields: FieldErrors } | null {
  if (!/before (the )?current time|in the past/i.test(`${e.message} ${Object.values(e.fields).join(' ')}`)) return null;
  return { fields: { [field]: 'That date has already passed (on Keyward’s clock). Choose a later date.' } };
}

function TokenDialog(props: { owner: Owner; apiKey?: ApiKey; existing?: TokenView; live: number; onClose: () => void; onCreated?: (token: string) => void; onSaved?: () => void }) {
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
      if (d === null) local.validTo = 'Pick an expiration date, or a quick choice below it.';
      else if (typeof d === 'string') local.validTo = d;
      else validTo = d;
    }
    void form.run(
      local,
      async () => {
        const body = { name: form.name.trim(), description: form.description, tags: parseTags(form.tags), validTo };
        if (existing) {
          await api.updateToken(props.owner, existing, body);
          props.onSaved?.();
        } else {
          const token = await api.createToken(props.owner, props.apiKey!.identifier, { ...body, identifier: form.identifier });
          props.onCreated?.(token);
        }
      },
      (err) => explainPast(err, 'validTo') ?? explainDuplicate(err, 'token of this key', existing?.identifier ?? form.identifier, !!existing) ?? explainLimit(err, { what: 'token', count: props.live, owner: props.owner }),
    );
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
          <ExpiryField label="Expiration date" value={expiry} onChange={setExpiryText} error={form.fields.validTo} hint="The token works until the end of that day (your time)." />
        ) : (
          <p className="hint">Without a date, the token expires after the key's default lifetime ({expiryDefault} days).</p>
        )}
        <FormActions error={form.error} busy={form.busy} submitLabel={existing ? 'Save' : 'Generate Token'} onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

const GRACE: Array<[string, string, number]> = [
  ['now', 'Stops at once', 0],
  ['1h', 'Works 1 more hour', 3_600_000],
  ['1d', 'Works 1 more day', DAY_MS],
  ['7d', 'Works 7 more days', 7 * DAY_MS],
  ['at', 'Works until a date and time…', 0],
];

/**
 * Rotation: when the old token stops (at once, after a grace period, or at a chosen minute) and
 * when the new one expires (the old token's expiry unless changed: Harness's guide sets one here).
 */
function RotateDialog({ owner, token, live, onClose, onRotated }: { owner: Owner; token: TokenView; live: number; onClose: () => void; onRotated: (t: string, note?: ReactNode) => void }) {
  const [grace, setGrace] = useState('now');
  const [until, setUntil] = useState(formatDateTimeInput(Date.now() + DAY_MS));
  const keptExpiry = formatDateInput(token.validTo);
  const [expiry, setExpiry] = useState(keptExpiry);
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: FieldErrors = {};
    let at: number | null = null;
    if (grace === 'at') {
      at = parseDateTime(until);
      if (at === null) local.rotateTimestamp = 'Choose the date and time until which the old token keeps working.';
    } else if (grace !== 'now') {
      at = Date.now() + GRACE.find((g) => g[0] === grace)![2];
    }
    let newValidTo: number | null = null;
    if (expiry !== keptExpiry) {
      const d = parseDate(expiry);
      if (d === null) local.validTo = token.validTo === null ? '' : 'Pick the new token’s expiration date.';
      else if (typeof d === 'string') local.validTo = d;
      else newValidTo = d;
      if (local.validTo === '') delete local.validTo;
    }
    setFields(local);
    setError(null);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    let raw: string;
    try {
      raw = await api.rotateToken(owner, token, at);
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError(String(err), 0, '');
      const limit = explainLimit(ae, { what: 'token', count: live, owner, rotating: true });
      if (limit) setError(limit.message ?? null);
      else if (ae.fields.rotateTimestamp || ae.fields.validTo) setFields({ rotateTimestamp: explainPast(ae, 'x')?.fields.x ?? ae.fields.rotateTimestamp ?? ae.fields.validTo! });
      else setError(ae.message);
      setBusy(false);
      return;
    }
    let note: ReactNode;
    if (newValidTo !== null) {
      try {
        await api.setTokenExpiry(owner, token, newValidTo);
      } catch (err) {
        const ae = err instanceof ApiError ? err : new ApiError(String(err), 0, '');
        note = (
          <p className="form-error" role="alert">
            The token was rotated, but its new expiry could not be set ({explainPast(ae, 'x')?.fields.x ?? ae.message}); it keeps the old expiry, {formatDay(token.validTo)}. Edit the token to change it.
          </p>
        );
      }
    }
    onRotated(raw, note);
  };
  return (
    <Dialog title={`Rotate token ${token.name}`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <p>Rotating makes a new token with the same name and identifier, shown once. Choose how long the old token keeps working, so clients can move over without downtime.</p>
        <Field label="The old token" error={fields.rotateTimestamp}>
          {(a) => (
            <div className="grace">
              <select {...a} value={grace} onChange={(e) => setGrace(e.target.value)}>
                {GRACE.map(([v, label]) => (
                  <option key={v} value={v}>
                    {label}
                  </option>
                ))}
              </select>
              {grace === 'at' && (
                <>
                  <label htmlFor="rotate-until" className="sr-only">
                    Old token works until
                  </label>
                  <input id="rotate-until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
                </>
              )}
            </div>
          )}
        </Field>
        <ExpiryField
          label="New token expires"
          value={expiry}
          onChange={setExpiry}
          error={fields.validTo}
          hint={token.validTo === null ? 'Leave empty to keep no expiry, as the old token had.' : `Unchanged, it keeps the old token's expiry (${formatDay(token.validTo)}). It works until the end of the chosen day (your time).`}
        />
        <FormActions error={error} busy={busy} submitLabel="Rotate Token" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
