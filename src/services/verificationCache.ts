/**
 * The verification cache: what a verify needs, already parsed, by token id (Harness NG), key id
 * (ZenML) or digest (CG). Bounded (LRU by insertion refresh), with a TTL as a backstop; every
 * mutation that can change an answer evicts the affected entries through the invalidation bus.
 *
 * Races: a read that started before an invalidation must not be cached after it, or a revoked
 * token could come back. Each read takes the epoch first; `set` refuses when it moved.
 *
 * Negative answers (not found, or an answer naming no credential) live in a map of their own,
 * bounded at a tenth of the cache and dropped at their TTL: a flood of made-up tokens can neither
 * push real entries out nor keep its own entries past their TTL.
 *
 * Out of step (the invalidation listener is lost): nothing is served or cached as usual, but the
 * entries are kept, still evicted by every invalidation this node makes or hears, so that while the
 * database cannot be reached they can answer, flagged stale, for at most `staleIfErrorMs` since the
 * node was last in step (stale-if-error). Back in step, or once the database is seen answering while
 * out of step, they are dropped: revocations may have been committed that this node did not hear.
 */
import type { Invalidation } from './context.js';

export interface CacheEntryMeta {
  tokenIds: string[];
  apiKeyIds: string[];
  principalIds: string[];
  accountId: string;
}

/** One cache entry (exported for bench/memory.ts, which measures it). */
export interface CacheSlot<V> {
  value: V | null; // null: a cached "not found"
  expiresAt: number;
  meta: CacheEntryMeta | null;
}

export interface CacheOptions {
  maxEntries: number;
  ttlMs: number;
  negativeTtlMs: number;
  /** How many negative answers are kept at most (default: a tenth of maxEntries, at least 1). */
  negativeMaxEntries?: number;
  /** How long after losing step the kept entries may answer while the database cannot be reached; 0: never. */
  staleIfErrorMs: number;
}

export const DEFAULT_CACHE_OPTIONS: CacheOptions = { maxEntries: 100_000, ttlMs: 5 * 60_000, negativeTtlMs: 5_000, staleIfErrorMs: 30_000 };

export class VerificationCache<V> {
  private readonly map = new Map<string, CacheSlot<V>>();
  /** Negative answers, in insertion order, which is also expiry order (they share one TTL). */
  private readonly negative = new Map<string, CacheSlot<V>>();
  private readonly negativeMax: number;
  private readonly byToken = new Map<string, Set<string>>();
  private readonly byApiKey = new Map<string, Set<string>>();
  private readonly byPrincipal = new Map<string, Set<string>>();
  private readonly byAccount = new Map<string, Set<string>>();
  private epochValue = 0;
  /** False while invalidations may be missed (e.g. the LISTEN connection is down): nothing is cached. */
  enabled = true;
  /** When the node lost step (clock ms); null while in step or once the kept entries were dropped. */
  private staleSinceValue: number | null = null;
  hits = 0;
  misses = 0;

  constructor(
    readonly options: CacheOptions,
    private readonly now: () => number,
  ) {
    this.negativeMax = options.negativeMaxEntries ?? Math.max(1, Math.floor(options.maxEntries / 10));
  }

  get epoch(): number {
    return this.epochValue;
  }

  get size(): number {
    return this.map.size + this.negative.size;
  }

  /** undefined: not cached; null: cached as not found; otherwise the value. */
  get(key: string): V | null | undefined {
    if (!this.enabled) return undefined;
    const slot = this.map.get(key) ?? this.negative.get(key);
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    if (slot.expiresAt <= this.now()) {
      this.remove(key);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return slot.value;
  }

  /** Caches a value read at `epoch`; a negative answer (`null`, or a value with no `meta`: no credential) for the negative TTL. */
  set(key: string, value: V | null, meta: CacheEntryMeta | null, epoch: number): void {
    if (!this.enabled || epoch !== this.epochValue) return;
    this.remove(key);
    // A negative answer: null, or a value that names no credential (no invalidation meta to index).
    if (value === null || meta === null) {
      this.setNegative(key, value);
      return;
    }
    if (this.map.size >= this.options.maxEntries) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.remove(oldest.value);
    }
    this.map.set(key, { value, expiresAt: this.now() + this.options.ttlMs, meta });
    for (const id of meta.tokenIds) index(this.byToken, id, key);
    for (const id of meta.apiKeyIds) index(this.byApiKey, id, key);
    for (const id of meta.principalIds) index(this.byPrincipal, id, key);
    index(this.byAccount, meta.accountId, key);
  }

  /** Drops the expired negative entries (the oldest first), then the oldest while full; never a positive entry. */
  private setNegative(key: string, value: V | null): void {
    const now = this.now();
    for (const [k, slot] of this.negative) {
      if (slot.expiresAt > now && this.negative.size < this.negativeMax) break;
      this.negative.delete(k);
    }
    this.negative.set(key, { value, expiresAt: now + this.options.negativeTtlMs, meta: null });
  }

  private remove(key: string): void {
    if (this.negative.delete(key)) return;
    const slot = this.map.get(key);
    if (!slot) return;
    this.map.delete(key);
    if (slot.meta) {
      for (const id of slot.meta.tokenIds) unindex(this.byToken, id, key);
      for (const id of slot.meta.apiKeyIds) unindex(this.byApiKey, id, key);
      for (const id of slot.meta.principalIds) unindex(this.byPrincipal, id, key);
      unindex(this.byAccount, slot.meta.accountId, key);
    }
  }

  private removeAll(keys: Set<string> | undefined): void {
    if (!keys) return;
    for (const k of [...keys]) this.remove(k);
  }

  clear(): void {
    this.epochValue++;
    this.map.clear();
    this.negative.clear();
    this.byToken.clear();
    this.byApiKey.clear();
    this.byPrincipal.clear();
    this.byAccount.clear();
  }

  get staleSince(): number | null {
    return this.staleSinceValue;
  }

  /** The invalidation listener is lost: stop serving and caching, keep the entries for stale-if-error. */
  outOfStep(): void {
    this.enabled = false;
    if (this.options.staleIfErrorMs <= 0) {
      this.clear();
      return;
    }
    this.staleSinceValue ??= this.now();
  }

  /** Listening again: what was cached before may be out of date, so start empty and cache again. */
  inStep(): void {
    this.clear();
    this.staleSinceValue = null;
    this.enabled = true;
  }

  /** The database answered while out of step: revocations may commit unheard, so the kept entries go. */
  dropStale(): void {
    if (this.staleSinceValue === null) return;
    this.clear();
    this.staleSinceValue = null;
  }

  /** Whether kept entries may still answer: out of step, and within `staleIfErrorMs` of losing step. */
  staleUsable(): boolean {
    return !this.enabled && this.staleSinceValue !== null && this.now() - this.staleSinceValue <= this.options.staleIfErrorMs;
  }

  /**
   * A kept entry, for an answer while the database cannot be reached (TTL ignored: the entry is
   * only as stale as the bound allows); undefined when there is none or the bound has passed.
   */
  getStale(key: string): V | null | undefined {
    if (!this.staleUsable()) return undefined;
    const slot = this.map.get(key) ?? this.negative.get(key);
    return slot === undefined ? undefined : slot.value;
  }

  invalidate(e: Invalidation): void {
    this.epochValue++;
    switch (e.kind) {
      case 'token':
        for (const id of e.tokenIds) {
          this.remove(`t:${id}`);
          this.removeAll(this.byToken.get(id));
        }
        break;
      case 'apiKey':
        for (const id of e.apiKeyIds) {
          this.remove(`k:${id}`);
          this.removeAll(this.byApiKey.get(id));
        }
        break;
      case 'principal':
        this.removeAll(this.byPrincipal.get(e.principalId));
        break;
      case 'permissions':
        this.removeAll(this.byAccount.get(e.accountId));
        break;
      case 'all':
        this.clear();
        break;
    }
  }
}

function index(m: Map<string, Set<string>>, id: string, key: string): void {
  let s = m.get(id);
  if (!s) m.set(id, (s = new Set()));
  s.add(key);
}

function unindex(m: Map<string, Set<string>>, id: string, key: string): void {
  const s = m.get(id);
  if (!s) return;
  s.delete(key);
  if (s.size === 0) m.delete(id);
}
