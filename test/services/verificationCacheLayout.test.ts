/**
 * The verification cache's compact layout (src/services/verificationCache.ts, src/services/verification.ts):
 * entries are indexed by key group, the group under its principals and accounts, so an invalidation
 * by token, key, principal or account evicts exactly the entries it names, however small or large a
 * group grows; and cached answers of one principal share one principal and scope object, a changed
 * principal getting its own.
 */
import { describe, expect, it } from 'vitest';
import { VerificationCache, type CacheEntryMeta } from '../../src/services/verificationCache.js';
import { credentialsOf } from '../../src/services/cachedCredentials.js';
import type { CredentialRecord } from '../../src/store/credentials.js';
import { openServiceWorld } from '../helpers/services.js';

const meta = (tokenIds: string[], apiKeyId: string, principalId: string, accountId: string): CacheEntryMeta => ({ tokenIds, apiKeyIds: [apiKeyId], principalIds: [principalId], accountId });

function world() {
  const cache = new VerificationCache<string>({ maxEntries: 1000, ttlMs: 60_000, negativeTtlMs: 2_000, staleIfErrorMs: 0 }, () => 1_000_000);
  const put = (key: string, m: CacheEntryMeta) => cache.set(key, `v-${key}`, m, cache.epoch);
  const cached = (keys: string[]) => keys.filter((k) => cache.get(k) !== undefined);
  return { cache, put, cached };
}

describe('verification cache: invalidation by key group', () => {
  it('evicts exactly the entries of a principal, a key, an account or a token', () => {
    const { cache, put, cached } = world();
    put('a1', meta(['a1'], 'K1', 'P1', 'A'));
    put('a2', meta(['a2'], 'K1', 'P1', 'A'));
    put('b1', meta(['b1'], 'K2', 'P2', 'A'));
    put('c1', meta(['c1'], 'K3', 'P3', 'B'));
    put('k:Z', meta(['z1', 'z2'], 'Z', 'P3', 'B'));
    const all = ['a1', 'a2', 'b1', 'c1', 'k:Z'];
    cache.invalidate({ kind: 'principal', principalId: 'P1' });
    expect(cached(all)).toEqual(['b1', 'c1', 'k:Z']);
    cache.invalidate({ kind: 'apiKey', apiKeyIds: ['K2'] });
    expect(cached(all)).toEqual(['c1', 'k:Z']);
    // A token of an entry keyed otherwise (a ZenML key's second secret).
    cache.invalidate({ kind: 'token', tokenIds: ['z2'] });
    expect(cached(all)).toEqual(['c1']);
    put('a1', meta(['a1'], 'K1', 'P1', 'A'));
    cache.invalidate({ kind: 'permissions', accountId: 'B' });
    expect(cached(all)).toEqual(['a1']);
    cache.invalidate({ kind: 'token', tokenIds: ['a1'] });
    expect(cache.size).toBe(0);
  });

  it('forgets an emptied group: its principal and account no longer reach a later entry of another key', () => {
    const { cache, put, cached } = world();
    put('a1', meta(['a1'], 'K1', 'P1', 'A'));
    cache.invalidate({ kind: 'token', tokenIds: ['a1'] });
    put('d1', meta(['d1'], 'K4', 'P4', 'A2'));
    cache.invalidate({ kind: 'principal', principalId: 'P1' });
    cache.invalidate({ kind: 'permissions', accountId: 'A' });
    expect(cached(['d1'])).toEqual(['d1']);
  });

  it('keeps a large group (past the small-list size) exact through single evictions and a key invalidation', () => {
    const { cache, put, cached } = world();
    const keys = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const k of keys) put(k, meta([k], 'K5', 'P5', 'A'));
    put('other', meta(['other'], 'K6', 'P5', 'A'));
    for (const k of keys.slice(0, 15)) cache.invalidate({ kind: 'token', tokenIds: [k] });
    expect(cached([...keys, 'other'])).toEqual([...keys.slice(15), 'other']);
    cache.invalidate({ kind: 'apiKey', apiKeyIds: ['K5'] });
    expect(cached([...keys, 'other'])).toEqual(['other']);
    cache.invalidate({ kind: 'principal', principalId: 'P5' });
    expect(cache.size).toBe(0);
  });
});

describe('verification answers: shared principals', () => {
  it('gives the tokens of one principal one principal and scope object, and a changed principal its own', async () => {
    const w = await openServiceWorld('sqlite');
    try {
      const rec: CredentialRecord = {
        tokenId: '0123456789abcdef01234567', apiKeyId: 'key-1', format: 'harness_ng', secretDigest: 'ab'.repeat(32), validFrom: 1, validTo: null,
        scheduledExpireAt: null, accountId: 'acc', orgId: '', projectId: '', apiKeyIdentifier: 'k', apiKeyType: 'USER', keyActive: true, userId: 'u1',
        serviceAccountId: null, principalIdentifier: 'u1', principalName: 'Ann', principalEmail: 'ann@x.io', principalActive: true, principalIsOperator: false,
        principalOrgId: '', principalProjectId: '',
      };
      const perms = Object.freeze(['p']);
      const one = (r: CredentialRecord) => credentialsOf(w.services.verification.lookupOf([r], () => perms).lookup)[0]!.verified;
      const a = one(rec);
      const b = one({ ...rec, tokenId: '0123456789abcdef0123456a' });
      expect(b).not.toBe(a);
      expect(b.tokenId).toBe('0123456789abcdef0123456a');
      expect(b.principal).toBe(a.principal);
      expect(b.scope).toBe(a.scope);
      expect(Object.isFrozen(a.principal)).toBe(true);
      const renamed = one({ ...rec, tokenId: '0123456789abcdef0123456b', principalName: 'Anna' });
      expect(renamed.principal).not.toBe(a.principal);
      expect(renamed.principal.name).toBe('Anna');
      expect(a.principal.name).toBe('Ann');
    } finally {
      await w.close();
    }
  });
});
