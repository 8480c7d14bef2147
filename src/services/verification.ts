/**
 * Verification: token string in; principal, scope, permissions and expiry out, or exactly one
 * reason for rejection. Malformed input is rejected without I/O; an unknown id does the same
 * digest work as a wrong secret. A cache hit makes no I/O: the credential, its digest and its
 * principal's permissions are held parsed, and evicted by every mutation that can change them.
 */
import { DUMMY_DIGEST, digestSecret, digestsEqual, parseToken, type ParsedToken } from '../domain/tokens.js';
import { tokenWindowState, type Actor } from '../domain/model.js';
import { UnavailableError } from '../domain/errors.js';
import type { Scope } from '../domain/scope.js';
import { credentialsByKeyId, readCredentialByTokenId, type CredentialRecord } from '../store/credentials.js';
import { isTombstoned } from '../store/tokens.js';
import { cgApiKeyByDigest, type CgApiKeyRecord } from '../store/cgApiKeys.js';
import { getUser } from '../store/users.js';
import { effectivePermissions, type Principal } from './access.js';
import type { ServiceContext } from './context.js';
import { OUTCOME_INDEX, type UsageRecorder } from './usage.js';
import { DEFAULT_CACHE_OPTIONS, VerificationCache, type CacheEntryMeta, type CacheOptions } from './verificationCache.js';
import { PermissionCache } from './permissionCache.js';

import { VERIFY_REASONS } from '../domain/verification.js';
export { VERIFY_REASONS };
export type { Rejected, Verified, VerifiedPrincipal, VerifyFailureReason, VerifyMeta, VerifyResult } from '../domain/verification.js';
import type { Rejected, Verified, VerifiedPrincipal, VerifyFailureReason, VerifyMeta, VerifyResult } from '../domain/verification.js';

/** One credential as the cache holds it: the record, its digest as bytes, and the prebuilt answer. */
export interface Credential {
  record: CredentialRecord;
  digest: Buffer;
  verified: Verified;
}

/** A cached lookup: the credentials found (a ZenML key may have two), or why none was. */
export interface Lookup {
  credentials: Credential[];
  missReason: 'unknown' | 'deleted';
}

const EMPTY_META: VerifyMeta = Object.freeze({});

const REJECTED: Record<VerifyFailureReason, Rejected> = Object.fromEntries(
  VERIFY_REASONS.map((r) => [r, Object.freeze({ valid: false as const, reason: r })]),
) as Record<VerifyFailureReason, Rejected>;

const REJECTED_STALE: Record<VerifyFailureReason, Rejected> = Object.fromEntries(
  VERIFY_REASONS.map((r) => [r, Object.freeze({ valid: false as const, reason: r, stale: true as const })]),
) as Record<VerifyFailureReason, Rejected>;

/** Stale twins of cached answers, made once each (so the HTTP layer's per-answer body cache works for them too). */
const staleTwins = new WeakMap<Verified, Verified>();

/** The same answer, flagged as served stale. */
function asStale(v: VerifyResult): VerifyResult {
  if (!v.valid) return REJECTED_STALE[v.reason];
  let twin = staleTwins.get(v);
  if (twin === undefined) {
    twin = Object.freeze({ ...v, stale: true as const });
    staleTwins.set(v, twin);
  }
  return twin;
}

function scopeOf(accountId: string, org: string, project: string): Scope {
  return { accountId, orgId: org === '' ? null : org, projectId: project === '' ? null : project };
}

export class VerificationService {
  /** Called with every outcome, for metrics. */
  onOutcome: (outcome: 'valid' | VerifyFailureReason) => void = () => undefined;
  /** Answers served stale (the database unreachable, within the bound), and verifications refused as unavailable. */
  staleAnswers = 0;
  unavailable = 0;
  readonly cache: VerificationCache<Lookup>;
  /**
   * Permissions by principal and scope, so a miss on one of a principal's tokens reads only the token;
   * AccessService's checks outside transactions use it too.
   */
  readonly permissionCache: PermissionCache;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly usage: UsageRecorder | null,
    cacheOptions: CacheOptions = DEFAULT_CACHE_OPTIONS,
  ) {
    this.cache = new VerificationCache<Lookup>(cacheOptions, () => ctx.clock.now());
    this.permissionCache = new PermissionCache(this.cache, () => ctx.clock.now());
    ctx.bus.on((e) => this.cache.invalidate(e));
  }

  async verify(raw: unknown, meta: VerifyMeta = {}): Promise<VerifyResult> {
    const result = await this.check(raw, meta);
    this.onOutcome(result.valid ? 'valid' : result.reason);
    return result;
  }

  /**
   * The answer when it needs no I/O (a malformed token, or a cache hit), synchronously; undefined
   * when the store must be read (then call `verify`).
   */
  verifyCached(raw: unknown, meta: VerifyMeta = EMPTY_META): VerifyResult | undefined {
    const parsed = parseToken(raw);
    if (!parsed.format) return REJECTED.malformed;
    const digest = digestSecret(parsed.format === 'harness_cg' ? parsed.whole : parsed.secret);
    const lookup = this.cache.get(cacheKey(parsed, digest));
    if (lookup === undefined || lookup === null) return undefined;
    return this.decide(parsed, digest, lookup, meta);
  }

  /**
   * The credential a presented token is, read from the store (never the cache), or null when it is
   * malformed, unknown, or its secret does not match: a leak report names a token this way.
   */
  async possessed(raw: string): Promise<CredentialRecord | null> {
    const parsed = parseToken(raw);
    if (!parsed.format) return null;
    const digest = digestSecret(parsed.format === 'harness_cg' ? parsed.whole : parsed.secret);
    const m = this.match(parsed, digest, (await this.load(parsed, digest)).credentials);
    return typeof m === 'string' ? null : m.record;
  }

  /** Parse, hash and look up once; read the store only on a miss. */
  private async check(raw: unknown, meta: VerifyMeta): Promise<VerifyResult> {
    const parsed = parseToken(raw);
    if (!parsed.format) return REJECTED.malformed;
    const digest = digestSecret(parsed.format === 'harness_cg' ? parsed.whole : parsed.secret);
    const [lookup, stale] = await this.cached(cacheKey(parsed, digest), parsed, digest);
    const v = this.decide(parsed, digest, lookup, meta);
    return stale ? asStale(v) : v;
  }

  /**
   * The cache fill, the one place the cache is read through: the cached lookup under `key`, else the
   * store's (loaded for `p`, or kept from before when the database is down; then `stale` is true).
   */
  private async cached(key: string, p: ParsedToken, digest: Buffer): Promise<[Lookup, boolean]> {
    const hit = this.cache.get(key);
    if (hit !== undefined && hit !== null) return [hit, false];
    return this.loadOrStale(key, () => this.load(p, digest));
  }

  /**
   * A cache miss: read the store and cache what it says. When the database cannot be reached, the
   * entry kept from before (stale-if-error, within its bound) answers instead, flagged stale; without
   * one the UnavailableError stands (a 503).
   */
  private async loadOrStale(key: string, load: () => Promise<Lookup>): Promise<[Lookup, boolean]> {
    const epoch = this.cache.epoch;
    const outOfStep = this.cache.staleSince !== null;
    // Known down, with a kept answer to give: most callers skip the doomed attempt; one probes.
    if (outOfStep && this.ctx.store.health.isDown) {
      const kept = this.cache.getStale(key);
      if (kept !== undefined && kept !== null && !this.ctx.store.health.shouldProbe()) {
        this.staleAnswers++;
        return [kept, true];
      }
    }
    let lookup: Lookup;
    try {
      lookup = await load();
    } catch (e) {
      if (!(e instanceof UnavailableError)) throw e;
      const kept = this.cache.getStale(key);
      if (kept === undefined || kept === null) {
        this.unavailable++;
        throw e;
      }
      this.staleAnswers++;
      return [kept, true];
    }
    // Out of step yet the database answers a read begun since: others can commit revocations this
    // node will not hear. (A read begun before the listener dropped proves nothing about now.)
    if (outOfStep) this.cache.dropStale();
    this.cache.set(key, lookup, entryMeta(lookup.credentials.map((c) => c.record)), epoch);
    return [lookup, false];
  }

  private decide(parsed: ParsedToken, digest: Buffer, lookup: Lookup, meta: VerifyMeta): VerifyResult {
    const match = this.match(parsed, digest, lookup.credentials);
    if (match === 'none') return REJECTED[lookup.missReason];
    if (match === 'mismatch') return REJECTED.unknown;
    if (match === 'wrong') return REJECTED.wrong_secret;
    return this.usable(match, meta);
  }

  /** The credential's answer now: its validity window, its key and its principal. */
  private usable(c: Credential, meta: VerifyMeta): VerifyResult {
    const rec = c.record;
    const now = this.ctx.clock.now();
    const usage = this.usage;
    // Each outcome is counted per token and hour in memory (src/services/usage.ts), written in batches.
    const window = tokenWindowState({ validFrom: rec.validFrom, validTo: rec.validTo, scheduledExpireTime: rec.scheduledExpireAt }, now);
    if (window !== 'valid') {
      usage?.count(rec.tokenId, now, OUTCOME_INDEX[window]);
      return REJECTED[window];
    }
    // The principal before its key, as ZenML checks the service account first: with both inactive the
    // answer names the account.
    if (!rec.principalActive) {
      usage?.count(rec.tokenId, now, OUTCOME_INDEX.principal_inactive);
      return REJECTED.principal_inactive;
    }
    if (!rec.keyActive) {
      usage?.count(rec.tokenId, now, OUTCOME_INDEX.key_inactive);
      return REJECTED.key_inactive;
    }
    if (usage) {
      usage.count(rec.tokenId, now, OUTCOME_INDEX.valid);
      usage.record(rec.tokenId, now, meta.ip ?? null, meta.userAgent ?? null);
    }
    return c.verified;
  }

  /**
   * A console session signed in with a Harness NG token: the token must still exist, be inside its
   * validity window and belong to an active key and principal. The secret is not compared again
   * (the session's signed JWT proves it was presented at sign-in). Uses the token's own cache
   * entry, so revoking, rotating out or deleting the token ends the session at once.
   */
  async tokenSession(tokenId: string, meta: VerifyMeta = EMPTY_META): Promise<VerifyResult> {
    const [lookup, stale] = await this.cached(`t:${tokenId}`, { format: 'harness_ng', prefix: 'pat', accountId: null, tokenId, secret: '' }, DUMMY_DIGEST);
    const c = lookup.credentials[0];
    const v = c ? this.usable(c, meta) : REJECTED[lookup.missReason];
    return stale ? asStale(v) : v;
  }

  /**
   * A console session signed in with email and password: the user must exist and be active. Read
   * from the database on every request (console traffic is light), so deactivation ends it at once
   * on every node without a cache to invalidate.
   */
  async userSession(userId: string): Promise<VerifyResult> {
    const u = await getUser(this.ctx.store.db, userId);
    if (!u) return REJECTED.unknown;
    if (!u.active) return REJECTED.principal_inactive;
    const scope = scopeOf(u.accountId, '', '');
    const permissions = [...(await effectivePermissions(this.ctx.store.db, { type: 'USER', id: u.id, accountId: u.accountId }, scope))].sort();
    return Object.freeze({
      valid: true as const,
      // No token: the session itself is the credential.
      tokenId: '',
      apiKeyId: '',
      apiKeyIdentifier: '',
      apiKeyType: 'USER' as const,
      format: 'session',
      accountId: u.accountId,
      scope,
      principal: { type: 'USER' as const, id: u.id, identifier: u.id, name: u.name, email: u.email, scope, isOperator: u.isOperator },
      permissions,
      validFrom: u.createdAt,
      expiresAt: null,
    });
  }

  /** Constant-time secret check against every candidate (at least two comparisons, real or dummy). */
  private match(p: ParsedToken, digest: Buffer, creds: Credential[]): Credential | 'none' | 'mismatch' | 'wrong' {
    let found: Credential | null = null;
    for (let i = 0; i < Math.max(2, creds.length); i++) {
      const c = creds[i];
      if (digestsEqual(digest, c ? c.digest : DUMMY_DIGEST) && c && !found) found = c;
    }
    if (creds.length === 0) return 'none';
    if (p.format === 'harness_ng') {
      const rec = creds[0]!.record;
      const prefixType = p.prefix === 'pat' ? 'USER' : 'SERVICE_ACCOUNT';
      if (rec.apiKeyType !== prefixType || (p.accountId !== null && p.accountId !== rec.accountId)) return 'mismatch';
    }
    if (p.format === 'harness_cg' && creds[0]!.record.accountId !== p.accountId) return 'mismatch';
    return found ?? 'wrong';
  }

  /**
   * A ZenML session: its key and the key's service account must still exist and be active (the
   * secret is not checked; the session's JWT proved it at login). Uses the same cache entry as the
   * key's verification, so deactivation or deletion rejects the session at once.
   */
  async keySession(apiKeyId: string): Promise<VerifyResult> {
    const [lookup, stale] = await this.cached(`k:${apiKeyId}`, { format: 'zenml', keyId: apiKeyId, secret: '' }, DUMMY_DIGEST);
    const creds = lookup.credentials;
    let v: VerifyResult;
    if (creds.length === 0) v = REJECTED[lookup.missReason];
    else {
      // A rotation always leaves a current secret; none left means the key's secret was revoked (a leak
      // report, services/leaks.ts), which ends the sessions it opened too.
      const current = creds.find((c) => c.record.scheduledExpireAt === null);
      v = !current
        ? REJECTED.rotated_out
        : !current.record.principalActive
          ? REJECTED.principal_inactive
          : !current.record.keyActive
            ? REJECTED.key_inactive
            : current.verified;
    }
    return stale ? asStale(v) : v;
  }

  private async load(p: ParsedToken, digest: Buffer): Promise<Lookup> {
    const db = this.ctx.store.db;
    let recs: CredentialRecord[];
    let missReason: Lookup['missReason'] = 'unknown';
    if (p.format === 'harness_ng') {
      const r = await readCredentialByTokenId(this.ctx.store, p.tokenId);
      recs = r && r.format === 'harness_ng' ? [r] : [];
      if (!r && (await isTombstoned(db, { tokenId: p.tokenId }))) missReason = 'deleted';
    } else if (p.format === 'zenml') {
      recs = (await credentialsByKeyId(db, p.keyId)).filter((r) => r.format === 'zenml');
      if (recs.length === 0 && (await isTombstoned(db, { apiKeyId: p.keyId }))) missReason = 'deleted';
    } else {
      // CG keys live in cg_api_keys (no parent principal); one indexed read by digest.
      const r = await cgApiKeyByDigest(db, digest.toString('hex'));
      recs = r ? [cgCredential(r)] : [];
    }
    const credentials: Credential[] = [];
    for (const rec of recs) credentials.push({ record: rec, digest: Buffer.from(rec.secretDigest, 'hex'), verified: await this.build(rec) });
    return { credentials, missReason };
  }

  private async build(rec: CredentialRecord): Promise<Verified> {
    const { scope, principal, asPrincipal } = principalOfRecord(rec);
    const permissions = await this.permissionCache.get(asPrincipal, scope, () => effectivePermissions(this.ctx.store.db, asPrincipal, scope));
    return verifiedOf(rec, scope, principal, permissions);
  }
}

/** Whom a credential record acts as: its scope, its principal, and that principal as access control evaluates it. */
export function principalOfRecord(rec: CredentialRecord): { scope: Scope; principal: VerifiedPrincipal; asPrincipal: Principal } {
  const scope = scopeOf(rec.accountId, rec.orgId, rec.projectId);
  let principal: VerifiedPrincipal;
  let asPrincipal: Principal;
  if (rec.format === 'harness_cg') {
    // A CG key acts as itself, with exactly the permissions of its user groups (docs/compat/harness-cg.md).
    principal = { type: 'API_KEY', id: rec.apiKeyId, identifier: rec.apiKeyId, name: rec.principalName, email: '', scope, isOperator: false };
    asPrincipal = { type: 'API_KEY', id: rec.apiKeyId, accountId: rec.accountId };
  } else {
    const isUser = rec.userId !== null;
    principal = {
      type: isUser ? 'USER' : 'SERVICE_ACCOUNT',
      id: (isUser ? rec.userId : rec.serviceAccountId)!,
      identifier: rec.principalIdentifier,
      name: rec.principalName,
      email: rec.principalEmail,
      scope: isUser ? scopeOf(rec.accountId, '', '') : scopeOf(rec.accountId, rec.principalOrgId, rec.principalProjectId),
      isOperator: rec.principalIsOperator,
    };
    asPrincipal = isUser
      ? { type: 'USER', id: principal.id, accountId: rec.accountId }
      : { type: 'SERVICE_ACCOUNT', id: principal.id, identifier: principal.identifier, scope: principal.scope };
  }
  return { scope, principal, asPrincipal };
}

/** What the cache indexes an entry under, for invalidation: its tokens, keys, principals and account (null: a cached miss). */
export function entryMeta(recs: CredentialRecord[]): CacheEntryMeta | null {
  if (recs.length === 0) return null;
  return {
    tokenIds: recs.map((r) => r.tokenId),
    apiKeyIds: [...new Set(recs.map((r) => r.apiKeyId))],
    principalIds: [...new Set(recs.map((r) => r.userId ?? r.serviceAccountId ?? r.apiKeyId))],
    accountId: recs[0]!.accountId,
  };
}

/** The frozen answer a verified credential gets (cached with it). */
export function verifiedOf(rec: CredentialRecord, scope: Scope, principal: VerifiedPrincipal, permissions: readonly string[]): Verified {
  return Object.freeze({
    valid: true as const,
    tokenId: rec.tokenId,
    apiKeyId: rec.apiKeyId,
    apiKeyIdentifier: rec.apiKeyIdentifier,
    apiKeyType: rec.apiKeyType as Verified['apiKeyType'],
    format: rec.format,
    accountId: rec.accountId,
    scope,
    principal,
    permissions,
    validFrom: rec.validFrom,
    expiresAt: rec.scheduledExpireAt ?? rec.validTo,
  });
}

/** A CG key as the verification path sees a credential: the key is its own token and its own principal. */
function cgCredential(k: CgApiKeyRecord): CredentialRecord {
  return {
    tokenId: k.id,
    apiKeyId: k.id,
    format: 'harness_cg',
    secretDigest: k.secretDigest,
    validFrom: k.createdAt,
    validTo: null,
    scheduledExpireAt: null,
    accountId: k.accountId,
    orgId: '',
    projectId: '',
    apiKeyIdentifier: k.id,
    apiKeyType: 'CG',
    keyActive: true,
    userId: null,
    serviceAccountId: null,
    principalIdentifier: k.id,
    principalName: k.name,
    principalEmail: '',
    principalActive: true,
    principalIsOperator: false,
    principalOrgId: '',
    principalProjectId: '',
  };
}

function cacheKey(p: ParsedToken, digest: Buffer): string {
  if (p.format === 'harness_ng') return `t:${p.tokenId}`;
  if (p.format === 'zenml') return `k:${p.keyId}`;
  return `d:${digest.toString('hex')}`;
}

/** Who acts, for permission checks and the audit log, when a request carries this verified credential. */
export function actorOf(v: Verified): Actor {
  // A password-signed console session has no key or token ('').
  const via = { apiKeyId: v.apiKeyId || null, tokenId: v.tokenId || null };
  if (v.principal.type === 'USER') {
    return { type: 'USER', id: v.principal.id, accountId: v.accountId, isOperator: v.principal.isOperator, via };
  }
  if (v.principal.type === 'API_KEY') return { type: 'API_KEY', id: v.principal.id, accountId: v.accountId, via };
  return { type: 'SERVICE_ACCOUNT', id: v.principal.id, identifier: v.principal.identifier, scope: v.principal.scope, via };
}
