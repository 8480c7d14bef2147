/**
 * Account policies (docs/policies.md): rules an account sets for its credentials, overridable per
 * organization and per project. Each field is set at some scope or not at all; the most specific
 * scope that sets a field wins, and a field no scope sets takes its default (the process-wide
 * settings for the two count limits, "no rule" for the others). Pure: the services load the rows
 * and apply the rules (src/services/policies.ts).
 */
import { PreconditionFailedError } from './errors.js';
import { scopeChain, scopeLevel, type Scope, type ScopeLevel } from './scope.js';

/** A count limit: a positive number, or no limit at all (ZenML has none on the wire). */
export type Limit = number | 'unlimited';

/** A policy as set at one scope: a field that is null (or absent) is not set there. */
export interface Policy {
  /** A token may be valid at most this many days after it was issued. */
  maxTokenLifetimeDays: number | null;
  /** Every token must have an end date. */
  requireExpiry: boolean | null;
  /** API keys per owner (user or service account) per scope. */
  maxApiKeysPerOwner: Limit | null;
  /** Live (not rotated-out) tokens per API key. */
  maxTokensPerApiKey: Limit | null;
  /** How long a rotated-out token may keep working (Harness rotateTimestamp, ZenML retain_period_minutes). */
  maxRotationGraceMinutes: number | null;
}

export type PolicyField = keyof Policy;

export const POLICY_FIELDS: readonly PolicyField[] = ['maxTokenLifetimeDays', 'requireExpiry', 'maxApiKeysPerOwner', 'maxTokensPerApiKey', 'maxRotationGraceMinutes'];

export const EMPTY_POLICY: Policy = { maxTokenLifetimeDays: null, requireExpiry: null, maxApiKeysPerOwner: null, maxTokensPerApiKey: null, maxRotationGraceMinutes: null };

/** Where an effective value came from: the scope that set it, or the default. */
export interface PolicySource {
  level: ScopeLevel | 'default';
  scope: Scope | null;
}

export interface EffectivePolicy {
  maxTokenLifetimeDays: number | null;
  requireExpiry: boolean;
  maxApiKeysPerOwner: Limit;
  maxTokensPerApiKey: Limit;
  maxRotationGraceMinutes: number | null;
  sources: Record<PolicyField, PolicySource>;
}

/** What applies where no scope sets a field: the process-wide limits (src/server/config.ts). */
export interface PolicyDefaults {
  maxApiKeysPerOwner: Limit;
  maxTokensPerApiKey: Limit;
}

export const DAY_MS = 24 * 60 * 60 * 1000;
export const MINUTE_MS = 60_000;
/** Upper bounds that keep every value a safe number of milliseconds (100 years; a century of minutes). */
export const MAX_LIFETIME_DAYS = 36_500;
export const MAX_GRACE_MINUTES = 52_560_000;
export const MAX_COUNT_LIMIT = 1_000_000;

/** The policies set along `scope`'s chain, found by scope, merged: the innermost setting of each field wins. */
export function effectivePolicy(scope: Scope, setAt: (s: Scope) => Policy | undefined, defaults: PolicyDefaults): EffectivePolicy {
  const chain = scopeChain(scope);
  const pick = <F extends PolicyField>(field: F): { value: Policy[F]; source: PolicySource } => {
    for (const s of chain) {
      const v = setAt(s)?.[field];
      if (v !== null && v !== undefined) return { value: v as Policy[F], source: { level: scopeLevel(s), scope: s } };
    }
    return { value: null as Policy[F], source: { level: 'default', scope: null } };
  };
  const lifetime = pick('maxTokenLifetimeDays');
  const expiry = pick('requireExpiry');
  const keys = pick('maxApiKeysPerOwner');
  const tokens = pick('maxTokensPerApiKey');
  const grace = pick('maxRotationGraceMinutes');
  return {
    maxTokenLifetimeDays: lifetime.value,
    requireExpiry: expiry.value ?? false,
    maxApiKeysPerOwner: keys.value ?? defaults.maxApiKeysPerOwner,
    maxTokensPerApiKey: tokens.value ?? defaults.maxTokensPerApiKey,
    maxRotationGraceMinutes: grace.value,
    sources: { maxTokenLifetimeDays: lifetime.source, requireExpiry: expiry.source, maxApiKeysPerOwner: keys.source, maxTokensPerApiKey: tokens.source, maxRotationGraceMinutes: grace.source },
  };
}

/** Checks a policy as a caller sends it; returns the violations by field. */
export function checkPolicy(p: Policy): Array<[PolicyField, string | null]> {
  const whole = (v: unknown, max: number) => (v === null ? null : typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= max ? null : `must be a whole number from 1 to ${max}, or null`);
  const limit = (v: unknown) => (v === 'unlimited' ? null : whole(v, MAX_COUNT_LIMIT) && `must be a whole number from 1 to ${MAX_COUNT_LIMIT}, "unlimited", or null`);
  const grace = p.maxRotationGraceMinutes;
  return [
    ['maxTokenLifetimeDays', whole(p.maxTokenLifetimeDays, MAX_LIFETIME_DAYS)],
    ['requireExpiry', p.requireExpiry === null || typeof p.requireExpiry === 'boolean' ? null : 'must be true, false or null'],
    ['maxApiKeysPerOwner', limit(p.maxApiKeysPerOwner)],
    ['maxTokensPerApiKey', limit(p.maxTokensPerApiKey)],
    ['maxRotationGraceMinutes', grace === null || (typeof grace === 'number' && Number.isSafeInteger(grace) && grace >= 0 && grace <= MAX_GRACE_MINUTES) ? null : `must be a whole number from 0 to ${MAX_GRACE_MINUTES}, or null`],
  ];
}

/** Where a rule was set, in words: "the account policy", "the policy of organization [o]". */
export function sourceWords(s: PolicySource): string {
  if (s.level === 'default' || !s.scope) return 'the default policy';
  if (s.level === 'project') return `the policy of project [${s.scope.projectId}] in organization [${s.scope.orgId}]`;
  if (s.level === 'organization') return `the policy of organization [${s.scope.orgId}]`;
  return 'the account policy';
}

/** A request refused by an account policy. Every protocol shows it as its own "invalid request". */
export class PolicyViolationError extends PreconditionFailedError {
  constructor(
    message: string,
    readonly rule: PolicyField,
    readonly source: PolicySource,
  ) {
    super(message);
  }
}

const days = (ms: number) => {
  const d = ms / DAY_MS;
  return Number.isInteger(d) ? `${d} days` : `${d.toFixed(2)} days`;
};

/**
 * The lifetime rules for a credential issued at `issuedAt` that stops working at `endsAt` (null:
 * never). `what` names the credential in the message ("A token", "Harness CG API keys").
 */
export function lifetimeViolation(p: EffectivePolicy, issuedAt: number, endsAt: number | null, what: string): PolicyViolationError | null {
  if (endsAt === null) {
    if (p.maxTokenLifetimeDays !== null) {
      return new PolicyViolationError(
        `${what} must expire: ${sourceWords(p.sources.maxTokenLifetimeDays)} allows at most ${p.maxTokenLifetimeDays} days (maxTokenLifetimeDays)`,
        'maxTokenLifetimeDays',
        p.sources.maxTokenLifetimeDays,
      );
    }
    if (p.requireExpiry) {
      return new PolicyViolationError(`${what} must expire: ${sourceWords(p.sources.requireExpiry)} requires an end date (requireExpiry)`, 'requireExpiry', p.sources.requireExpiry);
    }
    return null;
  }
  if (p.maxTokenLifetimeDays !== null && endsAt - issuedAt > p.maxTokenLifetimeDays * DAY_MS) {
    return new PolicyViolationError(
      `${what} would be valid for ${days(endsAt - issuedAt)}; ${sourceWords(p.sources.maxTokenLifetimeDays)} allows at most ${p.maxTokenLifetimeDays} days (maxTokenLifetimeDays)`,
      'maxTokenLifetimeDays',
      p.sources.maxTokenLifetimeDays,
    );
  }
  return null;
}

/** The latest end a credential issued at `issuedAt` may have, or null when no lifetime is set. */
export function latestEnd(p: EffectivePolicy, issuedAt: number): number | null {
  return p.maxTokenLifetimeDays === null ? null : issuedAt + p.maxTokenLifetimeDays * DAY_MS;
}

/** The rotation grace rule: a token rotated out at `rotatedAt` that keeps working until `until`. */
export function graceViolation(p: EffectivePolicy, rotatedAt: number, until: number): PolicyViolationError | null {
  if (p.maxRotationGraceMinutes === null || until - rotatedAt <= p.maxRotationGraceMinutes * MINUTE_MS) return null;
  const asked = Math.ceil((until - rotatedAt) / MINUTE_MS);
  return new PolicyViolationError(
    `A rotated-out token may keep working at most ${p.maxRotationGraceMinutes} minutes (maxRotationGraceMinutes, ${sourceWords(p.sources.maxRotationGraceMinutes)}); this rotation gives ${asked} minutes`,
    'maxRotationGraceMinutes',
    p.sources.maxRotationGraceMinutes,
  );
}

/** Whether `count` existing items leave room for one more under `limit`. */
export function withinLimit(limit: Limit, count: number): boolean {
  return limit === 'unlimited' || count < limit;
}
