/**
 * The verification cache: what a verify needs, already parsed, by token id (Harness NG: the key is
 * the bare token id, so it shares the answer's own string), key id (ZenML, `k:<id>`) or digest (CG,
 * `d:<hex>`). Bounded (LRU by insertion refresh), with a TTL as a backstop; every
 * mutation that can change an answer evicts the affected entries through the invalidation bus.
 *
 * Layout (bench/memory.ts measures it): one slot per entry holding its value, its expiry (relative to
 * the cache's creation, a small integer) and its key group; a value that is a slot itself (a
 * Credential) is its own slot. Invalidation indexes are by group: the
 * entries of one API key share a group, which is indexed under its principals and accounts, so an
 * entry costs one set membership however many ways it can be invalidated. A token is indexed on its
 * own only when its entry's key is not the token id (a ZenML key's entry, a CG key's).
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

/**
 * A small set of strings, sized to what it holds: most hold one (a key's principal, its account) or
 * a few (a key's tokens), where a Set would cost ~150 bytes. One string, an exact-size array of up
 * to SMALL, else a Set.
 */
type Members = string | readonly string[] | Set<string>;
const SMALL = 8;

function withMember(m: Members | undefined, v: string): Members {
  if (m === undefined) return v;
  if (typeof m === 'string') return m === v ? m : [m, v];
  if (m instanceof Set) return m.add(v);
  if (m.includes(v)) return m;
  // Not `[...m, v]`: V8 grows the spread's backing store to n + n/2 + 16 slots for the one added
  // element (about 225 bytes for 4 members instead of 80). concat allocates exactly n + 1.
  return m.length < SMALL ? m.concat(v) : new Set([...m, v]);
}

function withoutMember(m: Members, v: string): Members | undefined {
  if (typeof m === 'string') return m === v ? undefined : m;
  if (m instanceof Set) {
    m.delete(v);
    return m.size === 0 ? undefined : m;
  }
  const i = m.indexOf(v);
  if (i < 0) return m;
  if (m.length <= 2) return m[1 - i]!;
  // Exact size (filter pushes into a growing array), as in withMember.
  return m.slice(0, i).concat(m.slice(i + 1));
}

/** The members, as a list safe to iterate while the set changes. */
function membersOf(m: Members | undefined): readonly string[] {
  return m === undefined ? [] : typeof m === 'string' ? [m] : [...m];
}

function hasMember(m: Members | undefined, v: string): boolean {
  return m === undefined ? false : typeof m === 'string' ? m === v : m instanceof Set ? m.has(v) : m.includes(v);
}

/** The entries of one API key (or of one entry naming none), and what they are indexed under. */
export interface Group {
  id: string;
  keys: Members | undefined;
  principals: Members | undefined;
  accounts: Members;
}

/**
 * One cache entry (exported for bench/memory.ts, which measures it). A value that is itself a
 * CacheSlot (a verification's Credential) is kept as its own slot, its `value` being itself: one
 * object per entry instead of two (about 32 bytes less). Any other value is held by a `Held`.
 */
export abstract class CacheSlot<V> {
  /** Clock ms relative to the cache's creation (a small integer for ~24 days, then a heap number). */
  expiresAt = 0;
  /** Positive entries: the key group(s); null for a negative entry, or a value not (or no longer) cached. */
  groups: Group | Group[] | null = null;
  /** Token ids indexed on their own (those that are not the entry's key), or null. */
  tokens: string | string[] | null = null;
  abstract readonly value: V | null; // null: a cached "not found"
}

/** The slot of a value that is not its own (a negative answer, a list of credentials, a test's string). */
class Held<V> extends CacheSlot<V> {
  constructor(readonly value: V | null) {
    super();
  }
}

/**
 * The slot for a positive entry: the value itself when it is a slot not in use (a Credential is
 * made per store read, so this is the rule; `remove` frees it again), else a holder, so that one
 * object is never the slot of two entries.
 */
function slotFor<V>(value: V): CacheSlot<V> {
  return value instanceof CacheSlot && value.groups === null ? (value as CacheSlot<V>) : new Held(value);
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
  /** Tokens whose entry is keyed otherwise (ZenML, CG): token id -> cache keys. */
  private readonly byToken = new Map<string, Members>();
  /** API key id (or `\0<cache key>` for an entry naming no key) -> its group. */
  private readonly groups = new Map<string, Group>();
  private readonly byPrincipal = new Map<string, Members>();
  private readonly byAccount = new Map<string, Members>();
  /** Expiry times are stored relative to this, so they stay small integers. */
  private readonly base: number;
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
    this.base = now();
  }

  get epoch(): number {
    return this.epochValue;
  }

  get size(): number {
    return this.map.size + this.negative.size;
  }

  /** undefined: not cached; null: cached as not found; otherwise the value. `now`: the caller's clock reading, if it has one. */
  get(key: string, now: number = this.now()): V | null | undefined {
    if (!this.enabled) return undefined;
    const slot = this.map.get(key) ?? this.negative.get(key);
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    if (slot.expiresAt <= now - this.base) {
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
    const groupIds = meta.apiKeyIds.length > 0 ? meta.apiKeyIds : [`\0${key}`];
    const groups = groupIds.map((id) => this.join(id, key, meta));
    const tokens = meta.tokenIds.filter((t) => t !== key);
    for (const t of tokens) index(this.byToken, t, key);
    const slot = slotFor(value);
    slot.expiresAt = this.now() + this.options.ttlMs - this.base;
    slot.groups = groups.length === 1 ? groups[0]! : groups;
    slot.tokens = tokens.length === 0 ? null : tokens.length === 1 ? tokens[0]! : tokens;
    this.map.set(key, slot);
  }

  /** Adds the entry `key` to group `id`, indexing the group under the entry's principals and account. */
  private join(id: string, key: string, meta: CacheEntryMeta): Group {
    let g = this.groups.get(id);
    if (g === undefined) {
      g = { id, keys: undefined, principals: undefined, accounts: meta.accountId };
      this.groups.set(id, g);
      index(this.byAccount, meta.accountId, id);
    }
    g.keys = withMember(g.keys, key);
    for (const p of meta.principalIds) {
      if (!hasMember(g.principals, p)) {
        g.principals = withMember(g.principals, p);
        index(this.byPrincipal, p, id);
      }
    }
    if (!hasMember(g.accounts, meta.accountId)) {
      g.accounts = withMember(g.accounts, meta.accountId);
      index(this.byAccount, meta.accountId, id);
    }
    return g;
  }

  /** Takes `key` out of group `g`; a group left empty leaves the indexes. */
  private leave(g: Group, key: string): void {
    g.keys = g.keys === undefined ? undefined : withoutMember(g.keys, key);
    if (g.keys !== undefined) return;
    this.groups.delete(g.id);
    for (const p of membersOf(g.principals)) unindex(this.byPrincipal, p, g.id);
    for (const a of membersOf(g.accounts)) unindex(this.byAccount, a, g.id);
  }

  /** Drops the expired negative entries (the oldest first), then the oldest while full; never a positive entry. */
  private setNegative(key: string, value: V | null): void {
    const now = this.now() - this.base;
    for (const [k, slot] of this.negative) {
      if (slot.expiresAt > now && this.negative.size < this.negativeMax) break;
      this.negative.delete(k);
    }
    const slot = new Held(value);
    slot.expiresAt = now + this.options.negativeTtlMs;
    this.negative.set(key, slot);
  }

  private remove(key: string): void {
    if (this.negative.delete(key)) return;
    const slot = this.map.get(key);
    if (!slot) return;
    this.map.delete(key);
    const { groups, tokens } = slot;
    // Free for reuse (see slotFor); readers holding the value use only its own fields.
    slot.groups = null;
    slot.tokens = null;
    if (groups !== null) {
      if (Array.isArray(groups)) for (const g of groups) this.leave(g, key);
      else this.leave(groups, key);
    }
    if (tokens !== null) for (const t of typeof tokens === 'string' ? [tokens] : tokens) unindex(this.byToken, t, key);
  }

  private removeAll(keys: Members | undefined): void {
    for (const k of membersOf(keys)) this.remove(k);
  }

  /** Removes every entry of the groups named in `ids` (a principal's or an account's keys). */
  private removeGroups(ids: Members | undefined): void {
    for (const id of membersOf(ids)) this.removeAll(this.groups.get(id)?.keys);
  }

  clear(): void {
    this.epochValue++;
    this.map.clear();
    this.negative.clear();
    this.byToken.clear();
    this.groups.clear();
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
          this.remove(id);
          this.removeAll(this.byToken.get(id));
        }
        break;
      case 'apiKey':
        for (const id of e.apiKeyIds) {
          this.remove(`k:${id}`);
          this.removeAll(this.groups.get(id)?.keys);
        }
        break;
      case 'principal':
        this.removeGroups(this.byPrincipal.get(e.principalId));
        break;
      case 'permissions':
        this.removeGroups(this.byAccount.get(e.accountId));
        break;
      case 'all':
        this.clear();
        break;
    }
  }
}

function index(m: Map<string, Members>, id: string, key: string): void {
  m.set(id, withMember(m.get(id), key));
}

function unindex(m: Map<string, Members>, id: string, key: string): void {
  const had = m.get(id);
  if (had === undefined) return;
  const rest = withoutMember(had, key);
  if (rest === undefined) m.delete(id);
  else if (rest !== had) m.set(id, rest);
}
