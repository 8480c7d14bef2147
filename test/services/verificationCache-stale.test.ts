/**
 * Stale-if-error in the verification cache (issue 18): out of step, entries are not served as usual
 * and nothing new is cached, but kept entries can answer for at most `staleIfErrorMs` since the node
 * lost step; every invalidation still evicts them; back in step, or once the database is seen
 * answering, they are gone. With the setting at 0 nothing is kept.
 */
import { describe, expect, it } from 'vitest';
import { VerificationCache, type CacheEntryMeta } from '../../src/services/verificationCache.js';

const meta = (tokenId: string): CacheEntryMeta => ({ tokenIds: [tokenId], apiKeyIds: [`k-${tokenId}`], principalIds: [`p-${tokenId}`], accountId: 'acc' });

function world(staleIfErrorMs = 30_000) {
  let now = 1_000_000;
  const cache = new VerificationCache<string>({ maxEntries: 100, ttlMs: 60_000, negativeTtlMs: 2_000, staleIfErrorMs }, () => now);
  cache.set('t:a', 'A', meta('a'), cache.epoch);
  cache.set('t:b', 'B', meta('b'), cache.epoch);
  cache.set('t:unknown', 'none', null, cache.epoch);
  return { cache, advance: (ms: number) => (now += ms) };
}

describe('verification cache out of step', () => {
  it('keeps entries for stale answers within the bound only, and neither serves nor caches as usual meanwhile', () => {
    const { cache, advance } = world();
    cache.outOfStep();
    expect(cache.enabled).toBe(false);
    expect(cache.get('t:a')).toBeUndefined();
    expect(cache.getStale('t:a')).toBe('A');
    // Negative entries answer too, past their own short TTL (the bound is what limits them).
    advance(5_000);
    expect(cache.getStale('t:unknown')).toBe('none');
    cache.set('t:c', 'C', meta('c'), cache.epoch);
    expect(cache.getStale('t:c')).toBeUndefined();
    // A second loss report does not restart the bound.
    cache.outOfStep();
    advance(25_000);
    expect(cache.getStale('t:a')).toBe('A');
    advance(1);
    expect(cache.staleUsable()).toBe(false);
    expect(cache.getStale('t:a')).toBeUndefined();
  });

  it('never undoes an invalidation it heard of', () => {
    const { cache } = world();
    cache.outOfStep();
    cache.invalidate({ kind: 'token', tokenIds: ['a'] });
    cache.invalidate({ kind: 'principal', principalId: 'p-b' });
    expect(cache.getStale('t:a')).toBeUndefined();
    expect(cache.getStale('t:b')).toBeUndefined();
    expect(cache.getStale('t:unknown')).toBe('none');
  });

  it('drops what it kept once the database answers, and starts empty back in step', () => {
    const { cache } = world();
    cache.outOfStep();
    cache.dropStale();
    expect(cache.getStale('t:a')).toBeUndefined();
    expect(cache.size).toBe(0);

    const other = world().cache;
    other.outOfStep();
    other.inStep();
    expect(other.enabled).toBe(true);
    expect(other.size).toBe(0);
    expect(other.staleSince).toBeNull();
    other.set('t:a', 'A2', meta('a'), other.epoch);
    expect(other.get('t:a')).toBe('A2');
  });

  it('keeps nothing when stale-if-error is off (0)', () => {
    const { cache } = world(0);
    cache.outOfStep();
    expect(cache.size).toBe(0);
    expect(cache.getStale('t:a')).toBeUndefined();
  });
});
