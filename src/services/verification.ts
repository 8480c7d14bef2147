/**
 * Verification: token string in; principal, scope, permissions and expiry out, or exactly one
 * reason for rejection. Malformed input is rejected without I/O; an unknown id does the same
 * digest work as a wrong secret. A cache hit makes no I/O: the credential, its digest and its
 * principal's permissions are held parsed, and evicted by every mutation that can change them.
 *
 * A hit is: parse, one SHA-256, one clock read, one cache lookup, one constant-time digest
 * comparison per candidate secret (see `match`), the validity window, the usage count, and the
 * cached answer itself (one frozen object per token, its principal, scope and permissions shared
 * with the other tokens of the same principal and key).
 */
import { DUMMY_DIGEST_STRING, digestSecretString, digestStringsEqual, parseToken, splitNgToken, type ParsedNgToken, type ParsedToken } from '../domain/tokens.js';
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
import { CacheSlot, DEFAULT_CACHE_OPTIONS, VerificationCache, type CacheEntryMeta, type CacheOptions } from './verificationCache.js';
import { PermissionCache } from './permissionCache.js';

import { VERIFY_REASONS } from '../domain/verification.js';
export { VERIFY_REASONS };
export type { Rejected, Verified, VerifiedPrincipal, VerifyFailureReason, VerifyMeta, VerifyResult } from '../domain/verification.js';
import type { Rejected, Verified, VerifiedPrincipal, VerifyFailureReason, VerifyMeta, VerifyResult } from '../domain/verification.js';

/**
 * One credential as the cache holds it: its digest (`digestSecretString`), the prebuilt answer, why
 * it cannot be used whatever its window (its principal, else its key, inactive), and its validity
 * window, read by `tokenWindowState` through the getters below from the answer's own `validFrom`
 * and `expiresAt` (the scheduled expiry when rotated out, else validTo) plus a flag, so that the
 * usual entry holds no number of its own. Nothing else of the database row is kept. It is also its
 * own cache slot (expiry and index fields from CacheSlot), one object per cached token.
 */
export class Credential extends CacheSlot<Lookup> {
  /**
   * For a token rotated out (`verified.expiresAt` is its scheduled expiry): its validTo, or null when
   * it has none. For any other token: NOT_ROTATED (its validTo is `verified.expiresAt`).
   */
  private readonly rotatedValidTo: number | null | typeof NOT_ROTATED;

  constructor(
    readonly digest: string,
    readonly verified: Verified,
    validTo: number | null,
    scheduledExpireTime: number | null,
    readonly inactive: 'principal_inactive' | 'key_inactive' | null,
  ) {
    super();
    this.rotatedValidTo = scheduledExpireTime === null ? NOT_ROTATED : validTo;
  }

  /** Cached as its own slot (see CacheSlot): one object per cached token, not a slot and a Credential. */
  get value(): Lookup {
    return this;
  }

  get validFrom(): number {
    return this.verified.validFrom;
  }

  get validTo(): number | null {
    return this.rotatedValidTo === NOT_ROTATED ? this.verified.expiresAt : this.rotatedValidTo;
  }

  get scheduledExpireTime(): number | null {
    return this.rotatedValidTo === NOT_ROTATED ? null : this.verified.expiresAt;
  }
}

const NOT_ROTATED = -1 as const;

/** Why a lookup found no credential. */
export type MissReason = 'unknown' | 'deleted';

/**
 * A cached lookup: the one credential found (a Harness NG token, a CG key), the credentials found (a
 * ZenML key may have two), or why none was.
 */
export type Lookup = Credential | readonly Credential[] | MissReason;

const NO_CREDENTIALS: readonly Credential[] = Object.freeze([]);

/** The credentials of a lookup, as a list. */
export function credentialsOf(lookup: Lookup): readonly Credential[] {
  return typeof lookup === 'string' ? NO_CREDENTIALS : lookup instanceof Credential ? [lookup] : lookup;
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

/** Whether an NG token's prefix names its key's type, and the account it names (if any) is its own. */
function ngTokenFits(p: ParsedNgToken, v: Verified): boolean {
  return v.apiKeyType === (p.prefix === 'pat' ? 'USER' : 'SERVICE_ACCOUNT') && (p.accountId === null || p.accountId === v.accountId);
}

function scopeOf(accountId: string, org: string, project: string): Scope {
  return { accountId, orgId: org === '' ? null : org, projectId: project === '' ? null : project };
}

/** A verification that needs the store read: the cache key, the parsed token and its digest. */
class PendingRead {
  constructor(
    readonly key: string,
    readonly parsed: ParsedToken,
    readonly digest: string,
  ) {}
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

  /** The answer for a token: from the cache without I/O on a hit, else after one store read. */
  verify(raw: unknown, meta: VerifyMeta = EMPTY_META): Promise<VerifyResult> {
    const r = this.answerNow(raw, meta);
    if (r instanceof PendingRead) return this.verifyMiss(r.key, r.parsed, r.digest, meta);
    this.onOutcome(r.valid ? 'valid' : r.reason);
    return Promise.resolve(r);
  }

  /**
   * The answer when it needs no I/O (a malformed token, or a cache hit), synchronously; undefined
   * when the store must be read (then call `verify`).
   */
  verifyCached(raw: unknown, meta: VerifyMeta = EMPTY_META): VerifyResult | undefined {
    const r = this.answerNow(raw, meta);
    if (r instanceof PendingRead) return undefined;
    this.onOutcome(r.valid ? 'valid' : r.reason);
    return r;
  }

  /**
   * The answer without I/O, or what the store must be read for. First look, for the common case: a
   * Harness NG token whose id is cached, found from its dots alone; when its secret's digest matches
   * the cached credential it is the very token issued, so its characters need no checking. Anything
   * else is parsed in full (the reason a malformed token gets), reusing the first look's digest and
   * cache read when the parse finds the same parts.
   */
  private answerNow(raw: unknown, meta: VerifyMeta): VerifyResult | PendingRead {
    const now = this.ctx.clock.now();
    const quick = splitNgToken(raw);
    let digest = '';
    let lookup: Lookup | null | undefined;
    if (quick !== null) {
      digest = digestSecretString(quick.secret);
      lookup = this.cache.get(quick.tokenId, now);
      if (lookup instanceof Credential && digestStringsEqual(digest, lookup.digest) && ngTokenFits(quick, lookup.verified)) return this.usable(lookup, meta, now);
    }
    const parsed = parseToken(raw);
    if (!parsed.format) return REJECTED.malformed;
    if (quick === null || parsed.format !== 'harness_ng' || parsed.tokenId !== quick.tokenId || parsed.secret !== quick.secret) {
      digest = digestOf(parsed);
      lookup = this.cache.get(cacheKey(parsed, digest), now);
    }
    if (lookup === undefined || lookup === null) return new PendingRead(cacheKey(parsed, digest), parsed, digest);
    return this.decide(parsed, digest, lookup, meta, now);
  }

  /**
   * The credential a presented token is, read from the store (never the cache), or null when it is
   * malformed, unknown, or its secret does not match: a leak report names a token this way.
   */
  async possessed(raw: string): Promise<Pick<Verified, 'tokenId' | 'format' | 'accountId'> | null> {
    const parsed = parseToken(raw);
    if (!parsed.format) return null;
    const digest = digestOf(parsed);
    const m = this.match(parsed, digest, (await this.load(parsed, digest)).lookup);
    return typeof m === 'string' ? null : m.verified;
  }

  private async verifyMiss(key: string, parsed: ParsedToken, digest: string, meta: VerifyMeta): Promise<VerifyResult> {
    const [lookup, stale] = await this.loadOrStale(key, () => this.load(parsed, digest));
    const v = this.decide(parsed, digest, lookup, meta, this.ctx.clock.now());
    const result = stale ? asStale(v) : v;
    this.onOutcome(result.valid ? 'valid' : result.reason);
    return result;
  }

  /**
   * The cached lookup under `key`, else the store's (loaded for `p`, or kept from before when the
   * database is down; then `stale` is true), for the sessions' checks.
   */
  private async cached(key: string, p: ParsedToken, digest: string): Promise<[Lookup, boolean]> {
    const hit = this.cache.get(key);
    if (hit !== undefined && hit !== null) return [hit, false];
    return this.loadOrStale(key, () => this.load(p, digest));
  }

  /**
   * A cache miss: read the store and cache what it says; the one place the cache is filled. When
   * the database cannot be reached, the entry kept from before (stale-if-error, within its bound)
   * answers instead, flagged stale; without one the UnavailableError stands (a 503).
   */
  private async loadOrStale(key: string, load: () => Promise<Loaded>): Promise<[Lookup, boolean]> {
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
    let lookup: Loaded;
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
    this.cache.set(ownCopy(key, lookup.lookup), lookup.lookup, lookup.meta, epoch);
    return [lookup.lookup, false];
  }

  private decide(parsed: ParsedToken, digest: string, lookup: Lookup, meta: VerifyMeta, now: number): VerifyResult {
    const match = this.match(parsed, digest, lookup);
    if (match === 'none') return REJECTED[typeof lookup === 'string' ? lookup : 'unknown'];
    if (match === 'mismatch') return REJECTED.unknown;
    if (match === 'wrong') return REJECTED.wrong_secret;
    return this.usable(match, meta, now);
  }

  /** The credential's answer at `now`: its validity window, its key and its principal. */
  private usable(c: Credential, meta: VerifyMeta, now: number): VerifyResult {
    const usage = this.usage;
    const tokenId = c.verified.tokenId;
    // Each outcome is counted per token and hour in memory (src/services/usage.ts), written in batches.
    const window = tokenWindowState(c, now);
    if (window !== 'valid') {
      usage?.count(tokenId, now, OUTCOME_INDEX[window]);
      return REJECTED[window];
    }
    // The principal before its key, as ZenML checks the service account first: with both inactive the
    // answer names the account.
    if (c.inactive !== null) {
      usage?.count(tokenId, now, OUTCOME_INDEX[c.inactive]);
      return REJECTED[c.inactive];
    }
    if (usage) {
      usage.count(tokenId, now, OUTCOME_INDEX.valid);
      usage.record(tokenId, now, meta.ip ?? null, meta.userAgent ?? null);
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
    const [lookup, stale] = await this.cached(tokenId, { format: 'harness_ng', prefix: 'pat', accountId: null, tokenId, secret: '' }, DUMMY_DIGEST_STRING);
    const c = credentialsOf(lookup)[0];
    const v = c ? this.usable(c, meta, this.ctx.clock.now()) : REJECTED[lookup as MissReason];
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

  /**
   * Constant-time secret check against every candidate. The number of comparisons depends only on
   * the format, never on the secret or on what is stored: one for a Harness NG token or a CG key
   * (exactly one credential, or the dummy digest when the id is unknown, so an unknown id does the
   * same work as a wrong secret), and at least two for a ZenML key (which may keep a previous
   * secret: a key with one secret is compared twice too, once against the dummy).
   */
  private match(p: ParsedToken, digest: string, lookup: Lookup): Credential | 'none' | 'mismatch' | 'wrong' {
    const twice = p.format === 'zenml';
    if (typeof lookup === 'string') {
      digestStringsEqual(digest, DUMMY_DIGEST_STRING);
      if (twice) digestStringsEqual(digest, DUMMY_DIGEST_STRING);
      return 'none';
    }
    let found: Credential | null = null;
    let first: Credential;
    if (lookup instanceof Credential) {
      first = lookup;
      if (digestStringsEqual(digest, lookup.digest)) found = lookup;
      if (twice) digestStringsEqual(digest, DUMMY_DIGEST_STRING);
    } else {
      for (let i = 0; i < Math.max(2, lookup.length); i++) {
        const c = lookup[i];
        if (digestStringsEqual(digest, c ? c.digest : DUMMY_DIGEST_STRING) && c && !found) found = c;
      }
      if (lookup.length === 0) return 'none';
      first = lookup[0]!;
    }
    const v = first.verified;
    if (p.format === 'harness_ng' && !ngTokenFits(p, v)) return 'mismatch';
    if (p.format === 'harness_cg' && v.accountId !== p.accountId) return 'mismatch';
    return found ?? 'wrong';
  }

  /**
   * A ZenML session: its key and the key's service account must still exist and be active (the
   * secret is not checked; the session's JWT proved it at login). Uses the same cache entry as the
   * key's verification, so deactivation or deletion rejects the session at once.
   */
  async keySession(apiKeyId: string): Promise<VerifyResult> {
    const [lookup, stale] = await this.cached(`k:${apiKeyId}`, { format: 'zenml', keyId: apiKeyId, secret: '' }, DUMMY_DIGEST_STRING);
    const creds = credentialsOf(lookup);
    let v: VerifyResult;
    if (creds.length === 0) v = REJECTED[lookup as MissReason];
    else {
      // A rotation always leaves a current secret; none left means the key's secret was revoked (a leak
      // report, services/leaks.ts), which ends the sessions it opened too.
      const current = creds.find((c) => c.scheduledExpireTime === null);
      v = !current ? REJECTED.rotated_out : current.inactive !== null ? REJECTED[current.inactive] : current.verified;
    }
    return stale ? asStale(v) : v;
  }

  private async load(p: ParsedToken, digest: string): Promise<Loaded> {
    const db = this.ctx.store.db;
    let recs: CredentialRecord[];
    let missReason: MissReason = 'unknown';
    if (p.format === 'harness_ng') {
      const r = await readCredentialByTokenId(this.ctx.store, p.tokenId);
      recs = r && r.format === 'harness_ng' ? [r] : [];
      if (!r && (await isTombstoned(db, { tokenId: p.tokenId }))) missReason = 'deleted';
    } else if (p.format === 'zenml') {
      recs = (await credentialsByKeyId(db, p.keyId)).filter((r) => r.format === 'zenml');
      if (recs.length === 0 && (await isTombstoned(db, { apiKeyId: p.keyId }))) missReason = 'deleted';
    } else {
      // CG keys live in cg_api_keys (no parent principal); one indexed read by digest.
      const r = await cgApiKeyByDigest(db, Buffer.from(digest, 'latin1').toString('hex'));
      recs = r ? [cgCredential(r)] : [];
    }
    if (recs.length === 0) return { lookup: missReason, meta: null };
    const permissions: Array<readonly string[]> = [];
    for (const rec of recs) {
      const { scope, asPrincipal } = principalOfRecord(rec);
      permissions.push(await this.permissionCache.get(asPrincipal, scope, () => effectivePermissions(this.ctx.store.db, asPrincipal, scope)));
    }
    return this.lookupOf(recs, (_, i) => permissions[i]!);
  }

  /**
   * The cache's form of credential records read from the store (exported for bench/memory.ts): one
   * Credential per record, whose answer shares its principal, scopes and strings with the other
   * cached answers of the same principal, key and account (`shared`), instead of a copy per token.
   */
  lookupOf(recs: readonly CredentialRecord[], permissionsOf: (rec: CredentialRecord, i: number) => readonly string[]): Loaded {
    const creds = recs.map((rec, i) => {
      const { scope, principal } = principalOfRecord(rec);
      const verified = verifiedOf(rec, this.shared.scope(scope), this.shared.principal(principal), permissionsOf(rec, i), this.shared);
      const inactive = !rec.principalActive ? 'principal_inactive' : !rec.keyActive ? 'key_inactive' : null;
      return new Credential(Buffer.from(rec.secretDigest, 'hex').toString('latin1'), verified, rec.validTo, rec.scheduledExpireAt, inactive);
    });
    const meta = entryMeta(recs)!;
    const shared = (ids: string[]) => ids.map((id) => this.shared.string(id));
    return {
      lookup: creds.length === 1 ? creds[0]! : Object.freeze(creds),
      // The answers' own strings, not the rows' copies.
      meta: { tokenIds: creds.map((c) => c.verified.tokenId), apiKeyIds: shared(meta.apiKeyIds), principalIds: shared(meta.principalIds), accountId: this.shared.string(meta.accountId) },
    };
  }

  /** Strings and frozen objects shared between cached answers (cleared with the cache's entries, see `SharedValues`). */
  private readonly shared = new SharedValues();
}

/** What a store read gives the cache: the lookup and what to index it under (null: a negative answer). */
export interface Loaded {
  lookup: Lookup;
  meta: CacheEntryMeta | null;
}

/**
 * One instance of each equal string, scope and principal among the cached answers: a principal's
 * tokens share one principal and scope object, a key's tokens one key id and identifier, an
 * account's one account id. Scopes and principals are found by their id and reused only when every
 * field is identical (a changed principal gets a new object). Bounded: past `max` values it
 * starts afresh (values handed out before stay valid, being immutable, only no longer shared).
 */
export class SharedValues {
  private readonly strings = new Map<string, string>();
  private readonly scopes = new Map<string, Scope>();
  private readonly principals = new Map<string, VerifiedPrincipal>();

  constructor(private readonly max = 100_000) {}

  string<T extends string | null>(s: T): T {
    if (s === null) return s;
    const had = this.strings.get(s);
    if (had !== undefined) return had as T;
    if (this.strings.size >= this.max) this.strings.clear();
    this.strings.set(s, s);
    return s;
  }

  /** The shared frozen copy of a scope, found by its innermost id. */
  scope(s: Scope): Scope {
    return this.object(this.scopes, s.projectId ?? s.orgId ?? s.accountId, s);
  }

  /** The shared frozen copy of a principal (with its shared scope), found by its id. */
  principal(p: VerifiedPrincipal): VerifiedPrincipal {
    return this.object(this.principals, p.id, { ...p, scope: this.scope(p.scope) });
  }

  /** Its own strings are not interned: held once by the shared object, they are shared already. */
  private object<T extends object>(map: Map<string, T>, id: string, o: T): T {
    const had = map.get(id);
    if (had !== undefined && sameFields(had, o)) return had;
    if (map.size >= this.max) map.clear();
    const copy = Object.freeze(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? this.string(v) : v]))) as T;
    map.set(this.string(id), copy);
    return copy;
  }
}

function sameFields(a: object, b: object): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  return true;
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
export function entryMeta(recs: readonly CredentialRecord[]): CacheEntryMeta | null {
  if (recs.length === 0) return null;
  return {
    tokenIds: recs.map((r) => r.tokenId),
    apiKeyIds: [...new Set(recs.map((r) => r.apiKeyId))],
    principalIds: [...new Set(recs.map((r) => r.userId ?? r.serviceAccountId ?? r.apiKeyId))],
    accountId: recs[0]!.accountId,
  };
}

/** The frozen answer a verified credential gets (cached with it); `shared` gives its strings one instance per value. */
export function verifiedOf(rec: CredentialRecord, scope: Scope, principal: VerifiedPrincipal, permissions: readonly string[], shared?: SharedValues): Verified {
  const s = <T extends string>(x: T): T => (shared ? shared.string(x) : x);
  return Object.freeze({
    valid: true as const,
    tokenId: rec.tokenId,
    apiKeyId: s(rec.apiKeyId),
    apiKeyIdentifier: s(rec.apiKeyIdentifier),
    apiKeyType: s(rec.apiKeyType) as Verified['apiKeyType'],
    format: s(rec.format),
    accountId: s(rec.accountId),
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

/**
 * The key to keep an entry under: for a Harness NG token the answer's own token id string (the same
 * characters), else a copy of `key`. Never the parsed slice itself: a slice keeps the whole
 * presented token, secret included, alive for as long as the entry.
 */
function ownCopy(key: string, lookup: Lookup): string {
  if (lookup instanceof Credential && lookup.verified.tokenId === key) return lookup.verified.tokenId;
  return Buffer.from(key, 'latin1').toString('latin1');
}

/** What a parsed token's secret is hashed from: a CG key is hashed whole. */
function digestOf(p: ParsedToken): string {
  return digestSecretString(p.format === 'harness_cg' ? p.whole : p.secret);
}

/** The cache key: a Harness NG token's bare id (24 hex), `k:<key id>` for ZenML, `d:<digest hex>` for CG. */
function cacheKey(p: ParsedToken, digest: string): string {
  if (p.format === 'harness_ng') return p.tokenId;
  if (p.format === 'zenml') return `k:${p.keyId}`;
  return `d:${Buffer.from(digest, 'latin1').toString('hex')}`;
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
