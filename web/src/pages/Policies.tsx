/**
 * Account policies (docs/policies.md, native `/v1/accounts/{id}/policy`): the policy of the scope
 * the switcher shows (account, organization or project), what is in force there and where each
 * value comes from, every scope that sets one, and the credentials that break them.
 */
import { useState, type FormEvent } from 'react';
import { api, ApiError, type FieldErrors, type Limit, type Policy, type PolicyField, type PolicySource, type PolicyView, type Scope } from '../api';
import { navigate, scopeLabel, withScope } from '../app';
import { formatDay } from '../format';
import { Button, EmptyState, Field, FormError, Loading, useAsync, useToast } from '../ui';
import { ScrollRegion } from './ApiKeys';

const LABELS: Record<PolicyField, string> = {
  maxTokenLifetimeDays: 'Maximum token lifetime',
  requireExpiry: 'Expiry date required',
  maxApiKeysPerOwner: 'API keys per owner',
  maxTokensPerApiKey: 'Tokens per API key',
  maxRotationGraceMinutes: 'Rotation grace, at most',
};

function sourceWords(s: PolicySource): string {
  if (s.level === 'default' || !s.scope) return 'the default';
  if (s.level === 'project') return `project ${s.scope.projectId}`;
  if (s.level === 'organization') return `organization ${s.scope.orgId}`;
  return 'the account';
}

function limitWords(v: Limit): string {
  return v === 'unlimited' ? 'no limit' : String(v);
}

function inForce(view: PolicyView, f: PolicyField): string {
  const e = view.effective;
  const value =
    f === 'maxTokenLifetimeDays'
      ? e.maxTokenLifetimeDays === null ? 'no maximum' : `${e.maxTokenLifetimeDays} days`
      : f === 'requireExpiry'
        ? e.requireExpiry ? 'required' : 'not required'
        : f === 'maxRotationGraceMinutes'
          ? e.maxRotationGraceMinutes === null ? 'no maximum' : `${e.maxRotationGraceMinutes} minutes`
          : limitWords(e[f]);
  return `In force here: ${value} (from ${sourceWords(e.sources[f])}).`;
}

/** The form's text state: '' is "not set here". */
interface Draft {
  maxTokenLifetimeDays: string;
  requireExpiry: '' | 'true' | 'false';
  keysMode: '' | 'limit' | 'unlimited';
  keys: string;
  tokensMode: '' | 'limit' | 'unlimited';
  tokens: string;
  maxRotationGraceMinutes: string;
}

function draftOf(p: Policy): Draft {
  const mode = (v: Limit | null) => (v === null ? '' : v === 'unlimited' ? 'unlimited' : 'limit');
  return {
    maxTokenLifetimeDays: p.maxTokenLifetimeDays?.toString() ?? '',
    requireExpiry: p.requireExpiry === null ? '' : p.requireExpiry ? 'true' : 'false',
    keysMode: mode(p.maxApiKeysPerOwner),
    keys: typeof p.maxApiKeysPerOwner === 'number' ? String(p.maxApiKeysPerOwner) : '',
    tokensMode: mode(p.maxTokensPerApiKey),
    tokens: typeof p.maxTokensPerApiKey === 'number' ? String(p.maxTokensPerApiKey) : '',
    maxRotationGraceMinutes: p.maxRotationGraceMinutes?.toString() ?? '',
  };
}

/** The draft as a policy, or the fields it cannot be read as. */
function policyOf(d: Draft): { policy: Policy } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const num = (field: PolicyField, text: string, min: number): number | null => {
    if (text.trim() === '') return null;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      errors[field] = `Enter a whole number from ${min}, or leave it empty`;
      return null;
    }
    return n;
  };
  const limit = (field: PolicyField, mode: Draft['keysMode'], text: string): Limit | null => {
    if (mode === '') return null;
    if (mode === 'unlimited') return 'unlimited';
    if (text.trim() === '') {
      errors[field] = 'Enter the limit';
      return null;
    }
    return num(field, text, 1);
  };
  const policy: Policy = {
    maxTokenLifetimeDays: num('maxTokenLifetimeDays', d.maxTokenLifetimeDays, 1),
    requireExpiry: d.requireExpiry === '' ? null : d.requireExpiry === 'true',
    maxApiKeysPerOwner: limit('maxApiKeysPerOwner', d.keysMode, d.keys),
    maxTokensPerApiKey: limit('maxTokensPerApiKey', d.tokensMode, d.tokens),
    maxRotationGraceMinutes: num('maxRotationGraceMinutes', d.maxRotationGraceMinutes, 0),
  };
  return Object.keys(errors).length > 0 ? { errors } : { policy };
}

export function Policies({ scope }: { scope: Scope }) {
  const [version, setVersion] = useState(0);
  const view = useAsync(() => api.policy(scope), [scope.accountId, scope.org, scope.project, version]);
  const all = useAsync(() => api.policies(scope.accountId), [scope.accountId, version]);
  const violations = useAsync(() => api.policyViolations(scope.accountId), [scope.accountId, version]);
  const refresh = () => setVersion((v) => v + 1);
  return (
    <div className="page">
      <p className="breadcrumb">Account settings</p>
      <section className="panel" aria-labelledby="policy-heading">
        <div className="panel-head">
          <h1 id="policy-heading">Policies</h1>
        </div>
        <p className="page-note">
          Rules for the tokens and keys of {scopeLabel(scope)}. An organization or project may set a field for itself: the most specific scope that sets a field
          wins; an empty field is decided by a wider scope or the default. A change applies to what is created from now on; existing tokens that break it keep
          working and are listed below.
        </p>
        <Loading loading={view.loading && !view.data} label="Loading the policy…" />
        {view.error && <FormError error={view.error.message} />}
        {/* Only the view of this very scope: while another scope's loads, the previous one's data must not seed the form. */}
        {view.data && view.data.scope.orgId === scope.org && view.data.scope.projectId === scope.project && (
          <PolicyForm key={`${scope.org ?? ''}/${scope.project ?? ''}/${view.data.updatedAt ?? 'unset'}`} scope={scope} view={view.data} onSaved={refresh} />
        )}
      </section>

      <section className="panel" aria-labelledby="policies-set-heading">
        <h2 id="policies-set-heading">Where policies are set</h2>
        {all.data && all.data.items.length === 0 && <EmptyState title="No policy is set: the defaults apply everywhere." />}
        {all.data && all.data.items.length > 0 && (
          <ScrollRegion label="Policies set">
            <table className="table" aria-label="Policies set">
              <thead>
                <tr>
                  <th scope="col">Scope</th>
                  <th scope="col">Sets</th>
                </tr>
              </thead>
              <tbody>
                {all.data.items.map((i) => {
                  const s: Scope = { accountId: i.scope.accountId, org: i.scope.orgId, project: i.scope.projectId };
                  const set = (Object.keys(LABELS) as PolicyField[]).filter((f) => i.policy[f] !== null);
                  return (
                    <tr key={`${s.org ?? ''}/${s.project ?? ''}`}>
                      <td data-label="Scope">
                        <a
                          href={withScope('/policies', s)}
                          onClick={(e) => {
                            e.preventDefault();
                            navigate(withScope('/policies', s));
                          }}
                        >
                          {scopeLabel(s)}
                        </a>
                      </td>
                      <td data-label="Sets">{set.map((f) => `${LABELS[f]}: ${valueWords(f, i.policy)}`).join('; ')}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </section>

      <section className="panel" aria-labelledby="violations-heading">
        <h2 id="violations-heading">Tokens that break a policy</h2>
        <p className="page-note">Working credentials of the whole account that a policy would not allow today. Nothing here is revoked: rotate, shorten or delete them where they live.</p>
        <Loading loading={violations.loading && !violations.data} label="Looking for violations…" />
        {violations.error && <FormError error={violations.error.message} />}
        {violations.data && violations.data.items.length === 0 && <EmptyState title="Every working token keeps to the policies." />}
        {violations.data && violations.data.items.length > 0 && (
          <ScrollRegion label="Violations">
            <table className="table" aria-label="Violations">
              <thead>
                <tr>
                  <th scope="col">Credential</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Ends</th>
                  <th scope="col">Rule</th>
                </tr>
              </thead>
              <tbody>
                {violations.data.items.map((v) => (
                  <tr key={`${v.credential.id}/${v.rule}`} data-violation={v.credential.name}>
                    <td data-label="Credential">
                      <div className="token-name">{v.credential.name}</div>
                      <div className="muted small">
                        {v.credential.kind === 'cg_api_key' ? 'Harness CG API key' : `${v.credential.format === 'zenml' ? 'ZenML key' : 'token'} of key ${v.credential.apiKeyIdentifier}`}
                      </div>
                    </td>
                    <td data-label="Owner">
                      {v.credential.parentIdentifier ? (
                        <>
                          <div>{v.credential.apiKeyType === 'USER' ? 'User' : 'Service account'}</div>
                          <div className="muted mono small">{v.credential.parentIdentifier}</div>
                        </>
                      ) : (
                        <span className="muted">the account</span>
                      )}
                    </td>
                    <td data-label="Ends">{v.credential.expiresAt === null ? 'Never' : formatDay(v.credential.expiresAt)}</td>
                    <td data-label="Rule">
                      <div>{LABELS[v.rule]}</div>
                      <div className="muted small">{v.message}</div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </section>
    </div>
  );
}

function valueWords(f: PolicyField, p: Policy): string {
  const v = p[f];
  if (f === 'maxTokenLifetimeDays') return `${v} days`;
  if (f === 'maxRotationGraceMinutes') return `${v} minutes`;
  if (f === 'requireExpiry') return v ? 'yes' : 'no';
  return limitWords(v as Limit);
}

function PolicyForm({ scope, view, onSaved }: { scope: Scope; view: PolicyView; onSaved: () => void }) {
  const [d, setD] = useState<Draft>(() => draftOf(view.policy));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const set = (patch: Partial<Draft>) => setD((x) => ({ ...x, ...patch }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const read = policyOf(d);
    if ('errors' in read) {
      setErrors(read.errors);
      setError(null);
      return;
    }
    setBusy(true);
    try {
      await api.setPolicy(scope, read.policy);
      setErrors({});
      setError(null);
      toast(`Policy of ${scopeLabel(scope)} saved`);
      onSaved();
    } catch (err) {
      const a = err instanceof ApiError ? err : null;
      const fields = a?.fields ?? {};
      setErrors(fields);
      // A refusal that names its fields is shown next to them, not a second time above the buttons.
      setError(Object.keys(fields).length > 0 ? null : a ? a.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const limitField = (field: 'maxApiKeysPerOwner' | 'maxTokensPerApiKey', modeKey: 'keysMode' | 'tokensMode', valueKey: 'keys' | 'tokens', hint: string) => (
    <div className="policy-limit">
      <Field label={LABELS[field]} hint={`${hint} ${inForce(view, field)}`}>
        {(a) => (
          <select {...a} value={d[modeKey]} onChange={(e) => set({ [modeKey]: e.target.value } as Partial<Draft>)}>
            <option value="">Not set here</option>
            <option value="limit">At most…</option>
            <option value="unlimited">No limit</option>
          </select>
        )}
      </Field>
      {d[modeKey] === 'limit' && (
        <Field label={`${LABELS[field]}, at most`} error={errors[field]}>
          {(a) => <input {...a} inputMode="numeric" value={d[valueKey]} onChange={(e) => set({ [valueKey]: e.target.value } as Partial<Draft>)} />}
        </Field>
      )}
      {d[modeKey] !== 'limit' && errors[field] && (
        <div className="field-error" role="alert">
          {errors[field]}
        </div>
      )}
    </div>
  );
  return (
    <form className="form policy-form" onSubmit={submit} noValidate aria-label={`Policy of ${scopeLabel(scope)}`}>
      <Field label={`${LABELS.maxTokenLifetimeDays} (days)`} optional error={errors.maxTokenLifetimeDays} hint={`A token may be valid at most this long after it is made. ${inForce(view, 'maxTokenLifetimeDays')}`}>
        {(a) => <input {...a} inputMode="numeric" value={d.maxTokenLifetimeDays} onChange={(e) => set({ maxTokenLifetimeDays: e.target.value })} />}
      </Field>
      <Field label={LABELS.requireExpiry} error={errors.requireExpiry} hint={`ZenML and Harness CG keys have no end date, so none can be made while this or a lifetime applies. ${inForce(view, 'requireExpiry')}`}>
        {(a) => (
          <select {...a} value={d.requireExpiry} onChange={(e) => set({ requireExpiry: e.target.value as Draft['requireExpiry'] })}>
            <option value="">Not set here</option>
            <option value="true">Required</option>
            <option value="false">Not required</option>
          </select>
        )}
      </Field>
      {limitField('maxApiKeysPerOwner', 'keysMode', 'keys', 'Keys per user or service account in one scope.')}
      {limitField('maxTokensPerApiKey', 'tokensMode', 'tokens', 'Live tokens per key; rotated-out tokens do not count.')}
      <Field label={`${LABELS.maxRotationGraceMinutes} (minutes)`} optional error={errors.maxRotationGraceMinutes} hint={`How long an old token may keep working after a rotation. ${inForce(view, 'maxRotationGraceMinutes')}`}>
        {(a) => <input {...a} inputMode="numeric" value={d.maxRotationGraceMinutes} onChange={(e) => set({ maxRotationGraceMinutes: e.target.value })} />}
      </Field>
      <FormError error={error} />
      <div className="dialog-actions">
        <Button type="submit" variant="primary" busy={busy}>
          Save policy
        </Button>
      </div>
    </form>
  );
}
