/**
 * A cache hit's first look (src/services/verification.ts `answerNow`): a Harness NG token is split on
 * its dots without checking its characters, and trusted only when its secret's digest matches the
 * cached credential. Whatever else a cached token's id arrives with gets the same answer as before:
 * the full parse's reason, the wrong secret, the other account, and one cache read per verification.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { splitNgToken, parseToken } from '../../src/domain/tokens.js';
import { describeEachDb } from '../helpers/databases.js';
import { openServiceWorld, serviceAccountWithToken, type ServiceWorld } from '../helpers/services.js';

it('splitNgToken finds the parts of both NG forms from the dots alone, and nothing else', () => {
  const id = 'a'.repeat(24);
  expect(splitNgToken(`pat.acc.${id}.SECRET`)).toEqual({ format: 'harness_ng', prefix: 'pat', accountId: 'acc', tokenId: id, secret: 'SECRET' });
  expect(splitNgToken(`sat.${id}.s`)).toEqual({ format: 'harness_ng', prefix: 'sat', accountId: null, tokenId: id, secret: 's' });
  // Characters are not its business (parseToken refuses these), the shape is.
  expect(splitNgToken('pat.a c.X.!')).toMatchObject({ accountId: 'a c', tokenId: 'X', secret: '!' });
  expect(parseToken('pat.a c.X.!').format).toBeNull();
  for (const bad of ['pat.a.b.c.d', 'pat', 'xyz.a.b', 'pat.a', 42, null, `pat.a.b.${'x'.repeat(600)}`]) expect(splitNgToken(bad)).toBeNull();
});

describeEachDb('verification: first look on a cache hit', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
  });
  afterEach(async () => w.close());

  const reason = (token: string) => {
    const v = w.services.verification.verifyCached(token);
    return v === undefined ? 'miss' : v.valid ? 'valid' : v.reason;
  };

  it('answers a cached id presented with anything but its own secret as the full parse does', async () => {
    const { token } = await serviceAccountWithToken(w, 'first_look');
    expect((await w.services.verification.verify(token)).valid).toBe(true);
    const [prefix, account, id, secret] = token.split('.') as [string, string, string, string];
    expect(reason(token)).toBe('valid');
    expect(reason(`  ${token}  `)).toBe('valid'); // trimmed by the full parse, as before
    expect(reason(`${prefix}.${id}.${secret}`)).toBe('valid'); // the three-part form
    expect(reason(`${prefix}.${account}.${id}.${secret.slice(0, -1)}!`)).toBe('malformed');
    expect(reason(`${prefix}.${account}.${id}.${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`)).toBe('wrong_secret');
    expect(reason(`${prefix}.other.${id}.${secret}`)).toBe('unknown'); // another account's form of the id
    expect(reason(`${prefix === 'sat' ? 'pat' : 'sat'}.${account}.${id}.${secret}`)).toBe('unknown'); // the other key type
    expect(reason(`${prefix}.${account}.${id.toUpperCase()}.${secret}`)).toBe('malformed');
  });

  it('reads the cache once per verification, hit or not', async () => {
    const { token } = await serviceAccountWithToken(w, 'one_read');
    await w.services.verification.verify(token);
    const cache = w.services.verification.cache;
    const [hits, misses] = [cache.hits, cache.misses];
    reason(token);
    reason(`${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}`); // wrong secret: a hit that does not match
    expect([cache.hits - hits, cache.misses - misses]).toEqual([2, 0]);
    const unknown = `sat.${token.split('.')[1]}.${'0'.repeat(24)}.${'a'.repeat(20)}`;
    expect(reason(unknown)).toBe('miss');
    expect([cache.hits - hits, cache.misses - misses]).toEqual([2, 1]);
  });
});
