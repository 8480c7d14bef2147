/**
 * A principal's effective permissions at a scope, kept between verification cache misses: many
 * tokens share a principal, so a miss on one of them need not re-read its role assignments.
 *
 * Never fresher-than-the-cache problems: an entry is only used while the verification cache's
 * epoch has not moved since it was read (every invalidation, of any kind, moves it), while the
 * cache is enabled, and within the cache's TTL. A read that raced an invalidation is not kept.
 */
import type { Scope } from '../domain/scope.js';
import type { Principal } from '../domain/model.js';
import type { VerificationCache } from './verificationCache.js';

interface Entry {
  permissions: readonly string[];
  epoch: number;
  expiresAt: number;
}

export class PermissionCache {
  private readonly map = new Map<string, Entry>();

  constructor(
    private readonly cache: VerificationCache<unknown>,
    private readonly now: () => number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The permissions (sorted, frozen), from memory when still valid, else from `load`. */
  async get(principal: Principal, scope: Scope, load: () => Promise<Iterable<string>>): Promise<readonly string[]> {
    const key = `${principal.type}\u0000${principal.id}\u0000${scope.accountId}\u0000${scope.orgId ?? ''}\u0000${scope.projectId ?? ''}`;
    const epoch = this.cache.epoch;
    const hit = this.map.get(key);
    if (hit !== undefined && this.cache.enabled && hit.epoch === epoch && hit.expiresAt > this.now()) return hit.permissions;
    const permissions = Object.freeze([...(await load())].sort());
    if (this.cache.enabled && this.cache.epoch === epoch) {
      if (this.map.size >= this.maxEntries) this.map.clear();
      this.map.set(key, { permissions, epoch, expiresAt: this.now() + this.cache.options.ttlMs });
    } else {
      this.map.delete(key);
    }
    return permissions;
  }

  get size(): number {
    return this.map.size;
  }
}
