/** Tokens (docs/compat/harness-ng.md): issue once, validity window, limits, update, rotate, auto-created keys. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, LimitExceededError, NotFoundError } from '../../src/domain/errors.js';
import type { ServiceAccount } from '../../src/domain/model.js';
import { parseToken } from '../../src/domain/tokens.js';
import type { KeyOwner } from '../../src/services/apiKeys.js';
import { DEFAULT_TOKEN_TTL_MS } from '../../src/services/context.js';
import { describeEachDb } from '../helpers/databases.js';
import { DAY, HOUR, addServiceAccount, failure, ngSecretOf, openServiceWorld, reasonOf, saOwner, userOwner, type ServiceWorld } from '../helpers/services.js';

describeEachDb('tokens', (kind) => {
  let w: ServiceWorld;
  let sa: ServiceAccount;
  let owner: KeyOwner;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
    sa = await addServiceAccount(w, 'deployer');
    owner = saOwner(sa);
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'ci', name: 'ci', defaultTimeToExpireToken: 2 * DAY });
  });
  afterEach(async () => w.close());

  const create = (input: { identifier: string; validFrom?: number; validTo?: number; name?: string; apiKeyIdentifier?: string }) =>
    w.services.tokens.create(w.admin, owner, { name: input.identifier, apiKeyIdentifier: 'ci', ...input });

  it('returns the plain token once; no later read carries its secret', async () => {
    const issued = await create({ identifier: 'release' });
    const parsed = parseToken(issued.secret);
    expect(parsed).toMatchObject({ format: 'harness_ng', prefix: 'sat', accountId: w.accountId, tokenId: issued.token.id });
    const secret = ngSecretOf(issued.secret);

    const got = await w.services.tokens.get(w.admin, owner, 'ci', 'release');
    const listed = await w.services.tokens.list(w.admin, { owner, apiKeyIdentifier: 'ci' }, { offset: 0, limit: 10 });
    const key = await w.services.apiKeys.get(w.admin, owner, 'ci');
    expect(got.id).toBe(issued.token.id);
    expect(listed.items.map((t) => t.id)).toEqual([issued.token.id]);
    for (const read of [got, listed, key, issued.token]) expect(JSON.stringify(read)).not.toContain(secret);
    expect(await reasonOf(w.services, issued.secret)).toBe('valid');
  });

  it('issues pat. tokens for personal keys', async () => {
    const me = userOwner(w, w.provisioned.admin.id);
    const issued = await w.services.tokens.create(w.admin, me, { identifier: 't', name: 't', apiKeyIdentifier: 'admin' });
    expect(issued.secret.startsWith(`pat.${w.accountId}.`)).toBe(true);
  });

  it('defaults validFrom to now and validTo to validFrom plus the key lifetime', async () => {
    const now = w.clock.now();
    const a = await create({ identifier: 'a' });
    expect(a.token).toMatchObject({ validFrom: now, validTo: now + 2 * DAY, scheduledExpireTime: null });

    const later = now + 3 * HOUR;
    const b = await create({ identifier: 'b', validFrom: later });
    expect(b.token).toMatchObject({ validFrom: later, validTo: later + 2 * DAY });

    const c = await create({ identifier: 'c', validTo: now + HOUR });
    expect(c.token).toMatchObject({ validFrom: now, validTo: now + HOUR });
  });

  it('refuses validTo in the past and validFrom after validTo', async () => {
    const now = w.clock.now();
    const past = await failure(create({ identifier: 'past', validTo: now - 1 }));
    expect(past).toBeInstanceOf(InvalidArgumentError);
    expect(past.message).toBe("Token's validTo cannot be set before current time");

    const inverted = await failure(create({ identifier: 'inverted', validFrom: now + 2 * HOUR, validTo: now + HOUR }));
    expect(inverted).toBeInstanceOf(InvalidArgumentError);
    expect(inverted.message).toBe('validFrom time cannot be after validTo time');

    expect((await w.services.tokens.list(w.admin, { owner, apiKeyIdentifier: 'ci' }, { offset: 0, limit: 10 })).total).toBe(0);
  });

  it('allows 5 tokens per key, then says the limit has been reached', async () => {
    for (let i = 1; i <= 5; i++) await create({ identifier: `t${i}` });
    const err = await failure<LimitExceededError>(create({ identifier: 't6' }));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err.message).toBe('Maximum limit has reached');
    // Another key has its own five.
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'other', name: 'other' });
    await create({ identifier: 't6', apiKeyIdentifier: 'other' });
  });

  it('refuses a duplicate identifier that differs only in case', async () => {
    await create({ identifier: 'release' });
    const err = await failure(create({ identifier: 'RELEASE' }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe('Try using different token name, [RELEASE] already exists');
  });

  it('updates name, description, tags and expiry', async () => {
    const issued = await create({ identifier: 'release' });
    w.clock.advance(1000);
    const newValidTo = w.clock.now() + 5 * HOUR;
    const updated = await w.services.tokens.update(w.admin, owner, {
      identifier: 'release',
      apiKeyIdentifier: 'ci',
      name: 'Release token',
      description: 'for releases',
      tags: { team: 'release' },
      validTo: newValidTo,
    });
    expect(updated).toMatchObject({ id: issued.token.id, name: 'Release token', description: 'for releases', tags: { team: 'release' }, validTo: newValidTo, validFrom: issued.token.validFrom });
    expect(await w.services.tokens.get(w.admin, owner, 'ci', 'release')).toMatchObject({ name: 'Release token', description: 'for releases', tags: { team: 'release' }, validTo: newValidTo });

    // The new expiry is the one verification enforces.
    w.clock.set(newValidTo - 1);
    expect(await reasonOf(w.services, issued.secret)).toBe('valid');
    w.clock.set(newValidTo);
    expect(await reasonOf(w.services, issued.secret)).toBe('expired');
  });

  it('refuses to move validTo into the past on update', async () => {
    await create({ identifier: 'release' });
    const err = await failure(w.services.tokens.update(w.admin, owner, { identifier: 'release', apiKeyIdentifier: 'ci', name: 'x', validTo: w.clock.now() - 1 }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
  });

  it('deletes a token', async () => {
    const issued = await create({ identifier: 'release' });
    const deleted = await w.services.tokens.delete(w.admin, owner, 'ci', 'release');
    expect(deleted.id).toBe(issued.token.id);
    await expect(w.services.tokens.get(w.admin, owner, 'ci', 'release')).rejects.toBeInstanceOf(NotFoundError);
    await expect(w.services.tokens.delete(w.admin, owner, 'ci', 'release')).rejects.toBeInstanceOf(NotFoundError);
    expect(await reasonOf(w.services, issued.secret)).toBe('deleted');
  });

  it('rotates: the new token keeps identifier, name and validTo; the old one works until the rotate time', async () => {
    const old = await w.services.tokens.create(w.admin, owner, { identifier: 'release', name: 'Release', apiKeyIdentifier: 'ci', description: 'd', tags: { a: 'b' } });
    w.clock.advance(HOUR);
    const rotateAt = w.clock.now() + 10 * 60 * 1000;

    const fresh = await w.services.tokens.rotate(w.admin, owner, 'ci', 'release', rotateAt);

    expect(fresh.secret).not.toBe(old.secret);
    expect(fresh.token).toMatchObject({ identifier: 'release', name: 'Release', description: 'd', tags: { a: 'b' }, validTo: old.token.validTo, validFrom: w.clock.now(), scheduledExpireTime: null });
    expect(fresh.token.id).not.toBe(old.token.id);

    const all = await w.services.tokens.list(w.admin, { owner, apiKeyIdentifier: 'ci' }, { offset: 0, limit: 10 });
    const renamed = all.items.find((t) => t.id === old.token.id)!;
    expect(renamed.identifier).toMatch(/^rotated_[A-Za-z]{15}$/);
    expect(renamed).toMatchObject({ name: 'Release', scheduledExpireTime: rotateAt, rotatedAt: w.clock.now() });
    expect((await w.services.tokens.get(w.admin, owner, 'ci', 'release')).id).toBe(fresh.token.id);

    // The old secret keeps working until rotateAt, then stops.
    expect(await reasonOf(w.services, old.secret)).toBe('valid');
    w.clock.set(rotateAt - 1);
    expect(await reasonOf(w.services, old.secret)).toBe('valid');
    w.clock.set(rotateAt);
    expect(await reasonOf(w.services, old.secret)).toBe('rotated_out');
    expect(await reasonOf(w.services, fresh.secret)).toBe('valid');
  });

  it('rotates without a timestamp by ending the old token now', async () => {
    const old = await create({ identifier: 'release' });
    const fresh = await w.services.tokens.rotate(w.admin, owner, 'ci', 'release');
    expect(await reasonOf(w.services, old.secret)).toBe('rotated_out');
    expect(await reasonOf(w.services, fresh.secret)).toBe('valid');
  });

  it('never lets a rotated token outlive its own validTo', async () => {
    const old = await create({ identifier: 'release', validTo: w.clock.now() + HOUR });
    await w.services.tokens.rotate(w.admin, owner, 'ci', 'release', w.clock.now() + 10 * DAY);
    w.clock.advance(HOUR);
    expect(await reasonOf(w.services, old.secret)).not.toBe('valid');
  });

  it('refuses to update a rotated token', async () => {
    await create({ identifier: 'release' });
    await w.services.tokens.rotate(w.admin, owner, 'ci', 'release', w.clock.now() + HOUR);
    const rotated = (await w.services.tokens.list(w.admin, { owner, apiKeyIdentifier: 'ci' }, { offset: 0, limit: 10 })).items.find((t) => t.identifier.startsWith('rotated_'))!;

    const err = await failure(w.services.tokens.update(w.admin, owner, { identifier: rotated.identifier, apiKeyIdentifier: 'ci', name: 'renamed' }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toBe('Rotated tokens cannot be updated');
    // Nor can an update schedule an expiry on a live token.
    const err2 = await failure(w.services.tokens.update(w.admin, owner, { identifier: 'release', apiKeyIdentifier: 'ci', name: 'x', scheduledExpireTime: w.clock.now() }));
    expect(err2).toBeInstanceOf(InvalidArgumentError);
    expect((await w.services.tokens.get(w.admin, owner, 'ci', rotated.identifier)).name).toBe('release');
  });

  it('does not count rotated-out tokens toward the limit', async () => {
    for (let i = 1; i <= 5; i++) await create({ identifier: `t${i}` });
    const fresh = await w.services.tokens.rotate(w.admin, owner, 'ci', 't1', w.clock.now() + HOUR);
    expect(fresh.token.identifier).toBe('t1');
  });

  it('auto-creates a missing key as <id>_auto when asked to', async () => {
    const missing = await failure(w.services.tokens.create(w.admin, owner, { identifier: 't', name: 't', apiKeyIdentifier: 'newKey' }));
    expect(missing).toBeInstanceOf(NotFoundError);

    const issued = await w.services.tokens.create(w.admin, owner, { identifier: 't', name: 't', apiKeyIdentifier: 'newKey' }, { autoCreateKey: true });
    const key = await w.services.apiKeys.get(w.admin, owner, 'newKey');
    expect(key).toMatchObject({ identifier: 'newKey', name: 'newKey_auto', description: 'Auto Generated API key', defaultTimeToExpireToken: DEFAULT_TOKEN_TTL_MS, tokensCount: 1 });
    expect(issued.token.apiKeyId).toBe(key.id);
    expect(issued.token.validTo).toBe(w.clock.now() + DEFAULT_TOKEN_TTL_MS);
    expect(await reasonOf(w.services, issued.secret)).toBe('valid');
  });

  it('lists only active tokens when asked', async () => {
    await create({ identifier: 'now' });
    await create({ identifier: 'later', validFrom: w.clock.now() + DAY });
    await create({ identifier: 'short', validTo: w.clock.now() + HOUR });
    w.clock.advance(2 * HOUR);
    const active = await w.services.tokens.list(w.admin, { owner, apiKeyIdentifier: 'ci', onlyActive: true }, { offset: 0, limit: 10 });
    expect(active.items.map((t) => t.identifier)).toEqual(['now']);
    const all = await w.services.tokens.list(w.admin, { owner, apiKeyIdentifier: 'ci' }, { offset: 0, limit: 10 });
    expect(all.total).toBe(3);
  });
});
