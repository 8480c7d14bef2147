/**
 * The verification cache: a hit answers without reading the store, an unknown id is remembered as
 * unknown for a short while (so a flood of made-up ids reaches the store once), entries live no
 * longer than the TTL, and the cache never holds more than its size. Sizes and TTLs are settings.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { openServiceWorld, serviceAccountWithToken, type ServiceWorld } from '../helpers/services.js';

const TTL = 60_000;
const NEGATIVE_TTL = 2_000;

describeEachDb('verification cache', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind, { cache: { maxEntries: 3, ttlMs: TTL, negativeTtlMs: NEGATIVE_TTL } });
  });
  afterEach(async () => w.close());

  const reason = async (token: string) => {
    const v = await w.services.verification.verify(token);
    return v.valid ? 'valid' : v.reason;
  };

  it('answers a hit without reading the store, and reads it again once the TTL has passed', async () => {
    const { token, tokenId } = await serviceAccountWithToken(w, 'cached');
    expect(await reason(token)).toBe('valid');
    const cache = w.services.verification.cache;
    const misses = cache.misses;
    // Delete the row behind the services' back (no invalidation): only a store read could notice.
    await w.ts.store.db.deleteFrom('tokens').where('id', '=', tokenId).execute();
    expect(w.services.verification.verifyCached(token)).toMatchObject({ valid: true, tokenId });
    expect(await reason(token)).toBe('valid');
    expect(cache.misses).toBe(misses);
    w.clock.advance(TTL - 1);
    expect(await reason(token)).toBe('valid');
    w.clock.advance(1);
    expect(await reason(token)).toBe('unknown');
    expect(cache.misses).toBe(misses + 1);
  });

  it('remembers an unknown token id for the negative TTL: a flood reaches the store once', async () => {
    const { token } = await serviceAccountWithToken(w, 'real');
    const madeUp = token.replace(/\.[0-9a-f]{24}\./, '.0123456789abcdef01234567.');
    const cache = w.services.verification.cache;
    const misses = cache.misses;
    for (let i = 0; i < 100; i++) expect(await reason(madeUp)).toBe('unknown');
    expect(cache.misses).toBe(misses + 1);
    w.clock.advance(NEGATIVE_TTL);
    expect(await reason(madeUp)).toBe('unknown');
    expect(cache.misses).toBe(misses + 2);
  });

  it('holds no more entries than its size, dropping the least recently filled', async () => {
    const tokens: string[] = [];
    for (const id of ['a1', 'a2', 'a3', 'a4']) tokens.push((await serviceAccountWithToken(w, id)).token);
    for (const t of tokens) expect(await reason(t)).toBe('valid');
    const cache = w.services.verification.cache;
    expect(cache.size).toBe(3);
    // The first one was dropped: verifying it again misses; the last one still hits.
    const misses = cache.misses;
    expect(await reason(tokens[3]!)).toBe('valid');
    expect(cache.misses).toBe(misses);
    expect(await reason(tokens[0]!)).toBe('valid');
    expect(cache.misses).toBe(misses + 1);
    expect(cache.size).toBe(3);
  });
});
