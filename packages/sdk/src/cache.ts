/**
 * The SDK's verification cache: answers Keyward gave, in the caller's process, keyed by the SHA-256
 * digest of the token (the plain token is never kept), bounded and with a TTL backstop. Eviction
 * approximates least-recently-used with a second chance: a hit only marks its entry, and when the
 * cache is full the oldest entry goes unless it was used since it was last passed over (then it
 * moves to the back). A hit thus costs one flag write, not a reordering. Evicted by the invalidation stream's events (src/stream.ts); trusted only
 * while that stream is in step (src/client.ts decides).
 */
import * as crypto from 'node:crypto';
import type { Invalidation, Verified } from './types.js';

export interface CacheOptions {
  /** Entries kept; the least recently used goes first. Default 10 000. */
  maxEntries: number;
  /** The backstop: an entry older than this is asked again even if no event evicted it. Default 60 s. */
  ttlMs: number;
}

export const DEFAULT_CACHE: CacheOptions = { maxEntries: 10_000, ttlMs: 60_000 };

/** A cached valid answer and the permission/scope checks made for it. */
export interface CacheEntry {
  verified: Verified;
  /** The same answer flagged `cached: true`, made once (a hit returns it as is). */
  hit: Verified;
  /** Requirement key (permission and scope) → null when granted, else the denial reason. */
  grants: Map<string, string | null>;
  /** When this entry stops being used: the TTL backstop or the token's own expiry, whichever is first. */
  until: number;
  /** Used since the eviction last passed it over. */
  used: boolean;
}

/** `crypto.hash` (Node 20.12+) hashes without creating a Hash object: the same digest, less work. */
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'binary') => string }).hash;

/**
 * The cache key of a token: its SHA-256 as a 32-character latin1 string (a key that never leaves the
 * process; Node returns this form faster than hex, base64url or a Buffer).
 */
export function tokenDigest(token: string): string {
  return oneShot ? oneShot('sha256', token, 'binary') : crypto.createHash('sha256').update(token).digest('binary');
}

export class VerificationCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** Bumped by every eviction: an answer asked for before one is not cached (it may predate it). */
  generation = 0;
  evictions = 0;

  constructor(
    readonly options: CacheOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(digest: string): CacheEntry | undefined {
    const e = this.entries.get(digest);
    if (e === undefined) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(digest);
      return undefined;
    }
    e.used = true;
    return e;
  }

  /** Caches a valid answer, unless an eviction happened since `generation` was read. */
  set(digest: string, verified: Verified, generation: number): CacheEntry | undefined {
    if (generation !== this.generation) return undefined;
    const backstop = this.now() + this.options.ttlMs;
    const entry: CacheEntry = { verified, hit: Object.freeze({ ...verified, cached: true }), grants: new Map(), until: verified.expiresAt === null ? backstop : Math.min(backstop, verified.expiresAt), used: false };
    this.entries.delete(digest);
    this.entries.set(digest, entry);
    // Second chance: each pass clears one flag, so this ends within one round of the entries.
    while (this.entries.size > this.options.maxEntries) {
      const [oldest, e] = this.entries.entries().next().value as [string, CacheEntry];
      this.entries.delete(oldest);
      if (e.used) {
        e.used = false;
        this.entries.set(oldest, e);
      }
    }
    return entry;
  }

  /** Records a permission/scope decision on an entry still current (same generation). */
  setGrant(entry: CacheEntry, requirement: string, denial: string | null, generation: number): void {
    if (generation === this.generation) entry.grants.set(requirement, denial);
  }

  /** Applies one event from the stream; returns the number of entries evicted. */
  apply(e: Invalidation): number {
    this.generation++;
    if (e.kind === 'all') return this.flush();
    let match: (v: Verified) => boolean;
    switch (e.kind) {
      case 'token': {
        const ids = new Set(e.tokenIds);
        match = (v) => ids.has(v.tokenId);
        break;
      }
      case 'apiKey': {
        const ids = new Set(e.apiKeyIds);
        match = (v) => ids.has(v.apiKeyId);
        break;
      }
      case 'principal':
        match = (v) => v.principal.id === e.principalId;
        break;
      case 'permissions':
        match = (v) => v.accountId === e.accountId;
        break;
      default:
        // An event this SDK does not know: the safe reading is "anything may have changed".
        return this.flush();
    }
    let n = 0;
    for (const [k, entry] of this.entries) {
      if (match(entry.verified)) {
        this.entries.delete(k);
        n++;
      }
    }
    this.evictions += n;
    return n;
  }

  flush(): number {
    this.generation++;
    const n = this.entries.size;
    this.entries.clear();
    this.evictions += n;
    return n;
  }
}
