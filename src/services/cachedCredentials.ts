/**
 * What the verification cache holds for a credential, and how it is made from a store row: the
 * `Credential` (its digest, its prebuilt answer, why it cannot be used, its validity window; also its
 * own cache slot), the lookups a cache entry can be, the answer (`verifiedOf`) with its principal and
 * scope shared between tokens (`SharedValues`), and what an entry is indexed under for invalidation
 * (`entryMeta`). The decisions made with them are `services/verification.ts`'s.
 */
import type { Scope } from '../domain/scope.js';
import type { Verified, VerifiedPrincipal } from '../domain/verification.js';
import type { CredentialRecord } from '../store/credentials.js';
import type { CgApiKeyRecord } from '../store/cgApiKeys.js';
import type { Principal } from './access.js';
import { CacheSlot, type CacheEntryMeta } from './verificationCache.js';

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

export function scopeOf(accountId: string, org: string, project: string): Scope {
  return { accountId, orgId: org === '' ? null : org, projectId: project === '' ? null : project };
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
export function cgCredential(k: CgApiKeyRecord): CredentialRecord {
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
