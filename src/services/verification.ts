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
import { tokenWindowState } from '../domain/model.js';
import { UnavailableError } from '../domain/errors.js';
import { credentialsByKeyId, readCredentialByTokenId, type CredentialRecord } from '../store/credentials.js';
import { isTombstoned } from '../store/tokens.js';
import { cgApiKeyByDigest } from '../store/cgApiKeys.js';
import { getUser } from '../store/users.js';
import { effectivePermissions } from './access.js';
import type { ServiceContext } from './context.js';
import { OUTCOME_INDEX, type UsageRecorder } from './usage.js';
import { DEFAULT_CACHE_OPTIONS, VerificationCache, type CacheOptions } from './verificationCache.js';
import { PermissionCache } from './permissionCache.js';

import { VERIFY_REASONS } from '../domain/verification.js';
export { VERIFY_REASONS };
export type { Rejected, Verified, VerifiedPrincipal, VerifyFailureReason, VerifyMeta, VerifyResult } from '../domain/verification.js';
import type { Rejected, Verified, VerifyFailureReason, VerifyMeta, VerifyResult } from '../domain/verification.js';
import { Credential, SharedValues, cgCredential, credentialsOf, entryMeta, principalOfRecord, scopeOf, verifiedOf, type Loaded, type Lookup, type MissReason } from './cachedCredentials.js';

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
