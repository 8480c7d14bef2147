/**
 * Negative entries in the verification cache (issue 12): a flood of random unknown tokens must not
 * fill the cache with "not found" answers that outlive their TTL and push real entries out. Negative
 * answers live in their own small, bounded map and expire at their TTL; positive entries never make
 * room for them.
 */
import { describe, expect, it } from 'vitest';
import { VerificationCache, type CacheEntryMeta } from '../../src/services/verificationCache.js';

const meta = (id: string): CacheEntryMeta => ({ tokenIds: [id], apiKeyIds: [], principalIds: [], accountId: 'acc' });

describe('verification cache: negative entries', () => {
  const make = (maxEntries = 100) => {
    let now = 1_000;
    const cache = new VerificationCache<string>({ maxEntries, ttlMs: 60_000, negativeTtlMs: 2_000, staleIfErrorMs: 0 }, () => now);
    return { cache, advance: (ms: number) => (now += ms) };
  };

  it('a flood of unknown ids pushes out no real entry', () => {
    const { cache } = make(100);
    for (let i = 0; i < 50; i++) cache.set(`t:real${i}`, `v${i}`, meta(`real${i}`), cache.epoch);
    for (let i = 0; i < 10_000; i++) cache.set(`t:random${i}`, null, null, cache.epoch);
    for (let i = 0; i < 50; i++) expect(cache.get(`t:real${i}`)).toBe(`v${i}`);
  });

  it('a value naming no credential is a negative entry too, and pushes out no real one', () => {
    const { cache } = make(10);
    for (let i = 0; i < 10; i++) cache.set(`t:real${i}`, `v${i}`, meta(`real${i}`), cache.epoch);
    for (let i = 0; i < 1000; i++) cache.set(`t:deleted${i}`, 'deleted', null, cache.epoch);
    for (let i = 0; i < 10; i++) expect(cache.get(`t:real${i}`)).toBe(`v${i}`);
  });

  it('holds a bounded number of negative entries, the newest ones', () => {
    const { cache } = make(100);
    for (let i = 0; i < 10_000; i++) cache.set(`t:random${i}`, null, null, cache.epoch);
    expect(cache.size).toBeLessThanOrEqual(100);
    expect(cache.get('t:random9999')).toBeNull();
    expect(cache.get('t:random0')).toBeUndefined();
  });

  it('drops negative entries at their TTL, whether or not anyone asks for them again', () => {
    const { cache, advance } = make(100);
    cache.set('t:real', 'v', meta('real'), cache.epoch);
    for (let i = 0; i < 5; i++) cache.set(`t:random${i}`, null, null, cache.epoch);
    expect(cache.size).toBe(6);
    advance(1_999);
    expect(cache.get('t:random0')).toBeNull();
    advance(1);
    cache.set('t:later', null, null, cache.epoch);
    // The five expired ones are gone without having been read; the real entry and the new one remain.
    expect(cache.size).toBe(2);
    expect(cache.get('t:real')).toBe('v');
    expect(cache.get('t:random4')).toBeUndefined();
  });

  it('a real entry for a key replaces its negative one, and an invalidation removes a negative one', () => {
    const { cache } = make(100);
    cache.set('t:x', null, null, cache.epoch);
    cache.set('t:x', 'v', meta('x'), cache.epoch);
    expect(cache.get('t:x')).toBe('v');
    expect(cache.size).toBe(1);
    // A Harness NG token's entry is keyed by its bare id; a ZenML key's by `k:<id>`.
    cache.set('y', null, null, cache.epoch);
    cache.invalidate({ kind: 'token', tokenIds: ['y'] });
    expect(cache.get('y')).toBeUndefined();
    cache.set('k:w', null, null, cache.epoch);
    cache.invalidate({ kind: 'apiKey', apiKeyIds: ['w'] });
    expect(cache.get('k:w')).toBeUndefined();
    cache.set('t:z', null, null, cache.epoch);
    cache.invalidate({ kind: 'all' });
    expect(cache.get('t:z')).toBeUndefined();
  });
});
