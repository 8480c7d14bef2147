/**
 * A Credential is its own cache slot (src/services/verificationCache.ts, CacheSlot): one object per
 * cached token instead of a slot and a Credential. The answer it carries must not change (its JSON,
 * its own keys), and one Credential must never be the slot of two entries, or evicting one entry
 * would corrupt the other's index fields.
 */
import { describe, expect, it } from 'vitest';
import { VerificationCache, type CacheEntryMeta } from '../../src/services/verificationCache.js';
import { Credential, verifiedOf, type Lookup } from '../../src/services/cachedCredentials.js';
import type { CredentialRecord } from '../../src/store/credentials.js';

const rec: CredentialRecord = {
  tokenId: '0123456789abcdef01234567', apiKeyId: 'key-1', format: 'harness_ng', secretDigest: 'ab'.repeat(32), validFrom: 1_764_000_000_123, validTo: 1_795_000_000_456,
  scheduledExpireAt: null, accountId: 'acc', orgId: '', projectId: '', apiKeyIdentifier: 'k', apiKeyType: 'USER', keyActive: true, userId: 'u1',
  serviceAccountId: null, principalIdentifier: 'u1', principalName: 'Ann', principalEmail: 'ann@x.io', principalActive: true, principalIsOperator: false,
  principalOrgId: '', principalProjectId: '',
};
const scope = { accountId: 'acc', orgId: null, projectId: null };
const principal = { type: 'USER' as const, id: 'u1', identifier: 'u1', name: 'Ann', email: 'ann@x.io', scope, isOperator: false };
const credential = (tokenId: string) => new Credential('d'.repeat(32), verifiedOf({ ...rec, tokenId }, scope, principal, ['p']), rec.validTo, null, null);
const meta = (tokenId: string): CacheEntryMeta => ({ tokenIds: [tokenId], apiKeyIds: ['key-1'], principalIds: ['u1'], accountId: 'acc' });

function world(maxEntries = 1000) {
  const cache = new VerificationCache<Lookup>({ maxEntries, ttlMs: 60_000, negativeTtlMs: 2_000, staleIfErrorMs: 0 }, () => 1_000_000);
  const cached = (keys: string[]) => keys.filter((k) => cache.get(k) !== undefined);
  return { cache, cached };
}

describe('verification cache: a Credential as its own slot', () => {
  it('keeps the answer exactly as before: same JSON, same own keys, no slot fields on it', () => {
    const { cache } = world();
    const c = credential(rec.tokenId);
    cache.set(rec.tokenId, c, meta(rec.tokenId), cache.epoch);
    const hit = cache.get(rec.tokenId);
    expect(hit).toBe(c);
    const v = (hit as Credential).verified;
    expect(Object.keys(v)).toEqual(['valid', 'tokenId', 'apiKeyId', 'apiKeyIdentifier', 'apiKeyType', 'format', 'accountId', 'scope', 'principal', 'permissions', 'validFrom', 'expiresAt']);
    expect(JSON.parse(JSON.stringify(v))).toEqual({
      valid: true, tokenId: rec.tokenId, apiKeyId: 'key-1', apiKeyIdentifier: 'k', apiKeyType: 'USER', format: 'harness_ng', accountId: 'acc',
      scope, principal, permissions: ['p'], validFrom: 1_764_000_000_123, expiresAt: 1_795_000_000_456,
    });
    expect({ ...v }).toEqual(JSON.parse(JSON.stringify(v)));
    expect(c.validFrom).toBe(1_764_000_000_123);
    expect(c.validTo).toBe(1_795_000_000_456);
  });

  it('is evicted by each invalidation, and can be cached again afterwards', () => {
    const { cache, cached } = world();
    const c = credential(rec.tokenId);
    const events = [
      { kind: 'token' as const, tokenIds: [rec.tokenId] },
      { kind: 'apiKey' as const, apiKeyIds: ['key-1'] },
      { kind: 'principal' as const, principalId: 'u1' },
      { kind: 'permissions' as const, accountId: 'acc' },
    ];
    for (const e of events) {
      cache.set(rec.tokenId, c, meta(rec.tokenId), cache.epoch);
      expect(cached([rec.tokenId])).toEqual([rec.tokenId]);
      cache.invalidate(e);
      expect(cache.size).toBe(0);
    }
    // Past a clear (which does not free slots) it is still cached, held instead of being its own slot.
    cache.set(rec.tokenId, c, meta(rec.tokenId), cache.epoch);
    cache.clear();
    cache.set(rec.tokenId, c, meta(rec.tokenId), cache.epoch);
    expect(cache.get(rec.tokenId)).toBe(c);
    cache.invalidate({ kind: 'principal', principalId: 'u1' });
    expect(cache.size).toBe(0);
  });

  it('one Credential under two keys: each entry keeps its own index fields', () => {
    const { cache, cached } = world();
    const c = credential(rec.tokenId);
    cache.set('a', c, { ...meta(rec.tokenId), apiKeyIds: ['key-a'] }, cache.epoch);
    cache.set('b', c, { ...meta(rec.tokenId), apiKeyIds: ['key-b'] }, cache.epoch);
    cache.invalidate({ kind: 'token', tokenIds: ['a'] });
    expect(cached(['a', 'b'])).toEqual(['b']);
    // Had 'b' overwritten the fields 'a' was indexed by, key-a's group would have outlived 'a' and
    // now evict an 'a' that no longer belongs to key-a.
    cache.set('a', credential(rec.tokenId), { ...meta(rec.tokenId), apiKeyIds: ['key-b'] }, cache.epoch);
    cache.invalidate({ kind: 'apiKey', apiKeyIds: ['key-a'] });
    expect(cached(['a', 'b'])).toEqual(['a', 'b']);
    cache.invalidate({ kind: 'apiKey', apiKeyIds: ['key-b'] });
    expect(cache.size).toBe(0);
  });

  it('keeps the LRU bound with slots of their own', () => {
    const { cache, cached } = world(2);
    const ids = ['0123456789abcdef0000000a', '0123456789abcdef0000000b', '0123456789abcdef0000000c'];
    for (const id of ids) cache.set(id, credential(id), meta(id), cache.epoch);
    expect(cached(ids)).toEqual(ids.slice(1));
    cache.invalidate({ kind: 'apiKey', apiKeyIds: ['key-1'] });
    expect(cache.size).toBe(0);
  });
});
