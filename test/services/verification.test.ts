/**
 * Verification (docs/architecture.md): token string in; principal, scope, permissions and
 * expiry out, or exactly one reason. Each rejection test first verifies the token successfully,
 * so a stale cached answer would make it fail.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { newUuid } from '../../src/domain/ids.js';
import { makeScope } from '../../src/domain/scope.js';
import { ZENML_PREFIX, encodeZenmlKey, generateNgToken } from '../../src/domain/tokens.js';
import { createServices } from '../../src/services/index.js';
import { VERIFY_REASONS } from '../../src/services/verification.js';
import type { Store } from '../../src/store/database.js';
import { describeEachDb } from '../helpers/databases.js';
import {
  HOUR,
  addServiceAccount,
  addUser,
  openServiceWorld,
  reasonOf,
  saOwner,
  serviceAccountWithToken,
  userOwner,
  verifyOk,
  withOtherSecret,
  type ServiceWorld,
} from '../helpers/services.js';

describe('verification of malformed input', () => {
  /** A store that fails on any use: malformed input must be answered without touching it. */
  const noStore = new Proxy({} as Store, {
    get() {
      throw new Error('verification touched the store for malformed input');
    },
  });
  const services = createServices({ store: noStore, clock: new ManualClock() });

  it.each([
    ['garbage', 'abc'],
    ['the empty string', ''],
    ['a number', 42],
    ['null', null],
    ['an NG token with a short secret', 'pat.acc.65a1f0c2b3d4e5f60718293a.short'],
    ['an NG token with too many parts', 'pat.a.b.c.d'],
    ['an over-long string', `pat.${'a'.repeat(600)}`],
    ['a ZenML prefix with garbage', 'ZENKEY_%%%'],
  ])('rejects %s as malformed without I/O', async (_what, input) => {
    expect(await services.verification.verify(input)).toEqual({ valid: false, reason: 'malformed' });
  });
});

describeEachDb('verification', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
  });
  afterEach(async () => w.close());

  it('answers a service-account token with its principal, scope, permissions and expiry', async () => {
    await w.services.scopes.createOrganization(w.admin, w.accountId, { identifier: 'org1', name: 'org1' });
    await w.services.scopes.createProject(w.admin, w.accountId, 'org1', { identifier: 'proj1', name: 'proj1' });
    const scope = makeScope(w.accountId, 'org1', 'proj1');
    const { sa, token, tokenId } = await serviceAccountWithToken(w, 'deployer', { scope, role: '_project_viewer' });
    const key = await w.services.apiKeys.get(w.admin, saOwner(sa), 'key');

    const v = await verifyOk(w.services, token);

    expect(v).toEqual({
      valid: true,
      tokenId,
      apiKeyId: key.id,
      apiKeyIdentifier: 'key',
      apiKeyType: 'SERVICE_ACCOUNT',
      format: 'harness_ng',
      accountId: w.accountId,
      scope,
      principal: { type: 'SERVICE_ACCOUNT', id: sa.id, identifier: 'deployer', name: 'deployer', email: 'deployer@service.harness.io', scope, isOperator: false },
      permissions: expect.any(Array),
      validFrom: w.clock.now(),
      expiresAt: w.clock.now() + key.defaultTimeToExpireToken,
    });
    expect(v.permissions).toContain('core_serviceaccount_view');
    expect(v.permissions).not.toContain('core_serviceaccount_edit');
    expect(v.permissions).toEqual([...v.permissions].sort());
  });

  it("answers a user's token with the user and their account-level permissions", async () => {
    const v = await verifyOk(w.services, w.provisioned.token);
    expect(v.principal).toMatchObject({ type: 'USER', id: w.provisioned.admin.id, identifier: w.provisioned.admin.id, email: 'admin@acme.test', scope: w.accountScope });
    expect(v.scope).toEqual(w.accountScope);
    expect(v.permissions).toEqual(expect.arrayContaining(['core_account_edit', 'core_serviceaccount_manageapikey', 'MANAGE_API_KEYS']));
    expect(v.tokenId).toBe(w.provisioned.tokenRecord.id);
    expect(v.expiresAt).toBe(w.provisioned.tokenRecord.validTo);
  });

  it('says "unknown" for a well-formed token nobody issued', async () => {
    expect(await reasonOf(w.services, generateNgToken('USER', w.accountId).token)).toBe('unknown');
    expect(await reasonOf(w.services, generateNgToken('SERVICE_ACCOUNT', 'someOtherAccount').token)).toBe('unknown');
    expect(await reasonOf(w.services, encodeZenmlKey(newUuid(), 'f'.repeat(64)))).toBe('unknown');
  });

  it('says "unknown" when the prefix or account does not match the real token', async () => {
    const { token } = await serviceAccountWithToken(w, 'sa1');
    expect(await reasonOf(w.services, token)).toBe('valid');
    expect(await reasonOf(w.services, token.replace(/^sat\./, 'pat.'))).toBe('unknown');
    expect(await reasonOf(w.services, token.replace(`.${w.accountId}.`, '.anotherAccount.'))).toBe('unknown');
    // The legacy 3-part form of the same token is fine.
    const [prefix, , id, secret] = token.split('.');
    expect(await reasonOf(w.services, `${prefix}.${id}.${secret}`)).toBe('valid');
  });

  it('says "wrong_secret" for a real token id with another secret', async () => {
    expect(await reasonOf(w.services, w.provisioned.token)).toBe('valid');
    expect(await reasonOf(w.services, withOtherSecret(w.provisioned.token))).toBe('wrong_secret');
    expect(await reasonOf(w.services, w.provisioned.token)).toBe('valid');
  });

  it('says "not_yet_valid" before validFrom, then accepts it from validFrom on', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'k', name: 'k' });
    const from = w.clock.now() + HOUR;
    const t = await w.services.tokens.create(w.admin, saOwner(sa), { identifier: 't', name: 't', apiKeyIdentifier: 'k', validFrom: from });
    expect(await reasonOf(w.services, t.secret)).toBe('not_yet_valid');
    w.clock.set(from - 1);
    expect(await reasonOf(w.services, t.secret)).toBe('not_yet_valid');
    w.clock.set(from);
    expect(await reasonOf(w.services, t.secret)).toBe('valid');
  });

  it('says "expired" from validTo on', async () => {
    const validTo = w.provisioned.tokenRecord.validTo!;
    w.clock.set(validTo - 1);
    expect(await reasonOf(w.services, w.provisioned.token)).toBe('valid');
    w.clock.set(validTo);
    expect(await reasonOf(w.services, w.provisioned.token)).toBe('expired');
  });

  it('says "rotated_out" once a rotated token reaches its rotate time', async () => {
    const { owner, token } = await serviceAccountWithToken(w, 'sa1');
    expect(await reasonOf(w.services, token)).toBe('valid');
    await w.services.tokens.rotate(w.admin, owner, 'key', 'tok', w.clock.now() + HOUR);
    expect(await reasonOf(w.services, token)).toBe('valid');
    w.clock.advance(HOUR);
    expect(await reasonOf(w.services, token)).toBe('rotated_out');
  });

  it('says "deleted" for a deleted token', async () => {
    const { owner, token } = await serviceAccountWithToken(w, 'sa1');
    expect(await reasonOf(w.services, token)).toBe('valid');
    await w.services.tokens.delete(w.admin, owner, 'key', 'tok');
    expect(await reasonOf(w.services, token)).toBe('deleted');
  });

  it('says "deleted" for a token whose key was deleted', async () => {
    const { owner, token } = await serviceAccountWithToken(w, 'sa1');
    expect(await reasonOf(w.services, token)).toBe('valid');
    await w.services.apiKeys.delete(w.admin, owner, 'key');
    expect(await reasonOf(w.services, token)).toBe('deleted');
  });

  it('says "key_inactive" while the key is deactivated', async () => {
    const { owner, token } = await serviceAccountWithToken(w, 'sa1');
    expect(await reasonOf(w.services, token)).toBe('valid');
    await w.services.apiKeys.setActive(w.admin, owner, 'key', false);
    expect(await reasonOf(w.services, token)).toBe('key_inactive');
    await w.services.apiKeys.setActive(w.admin, owner, 'key', true);
    expect(await reasonOf(w.services, token)).toBe('valid');
  });

  it('says "principal_inactive" while the service account is deactivated', async () => {
    const { token } = await serviceAccountWithToken(w, 'sa1');
    expect(await reasonOf(w.services, token)).toBe('valid');
    await w.services.serviceAccounts.setActive(w.admin, w.accountScope, 'sa1', false);
    expect(await reasonOf(w.services, token)).toBe('principal_inactive');
    await w.services.serviceAccounts.setActive(w.admin, w.accountScope, 'sa1', true);
    expect(await reasonOf(w.services, token)).toBe('valid');
  });

  it('says "principal_inactive" while the user is deactivated', async () => {
    const bob = await addUser(w, 'bob@acme.test');
    await w.services.apiKeys.create(bob.caller, userOwner(w, bob.user.id), { identifier: 'k', name: 'k' });
    const t = await w.services.tokens.create(bob.caller, userOwner(w, bob.user.id), { identifier: 't', name: 't', apiKeyIdentifier: 'k' });
    expect(await reasonOf(w.services, t.secret)).toBe('valid');
    await w.services.users.update(w.admin, w.accountId, bob.user.id, { active: false });
    expect(await reasonOf(w.services, t.secret)).toBe('principal_inactive');
    await w.services.users.update(w.admin, w.accountId, bob.user.id, { active: true });
    expect(await reasonOf(w.services, t.secret)).toBe('valid');
  });

  it('verifies ZenML keys by their embedded key id', async () => {
    const sa = await addServiceAccount(w, 'zen');
    const key = await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'zk', name: 'zk' }, 'zenml');
    const t = await w.services.tokens.create(w.admin, saOwner(sa), { identifier: 't', name: 't', apiKeyIdentifier: 'zk' });
    expect(t.secret.startsWith(ZENML_PREFIX)).toBe(true);
    const v = await verifyOk(w.services, t.secret);
    expect(v).toMatchObject({ format: 'zenml', apiKeyId: key.id, principal: { id: sa.id } });
    expect(await reasonOf(w.services, encodeZenmlKey(key.id, 'f'.repeat(64)))).toBe('wrong_secret');
    await w.services.apiKeys.delete(w.admin, saOwner(sa), 'zk');
    expect(await reasonOf(w.services, t.secret)).toBe('deleted');
  });

  it('covers every reason it can give', () => {
    // If a reason is added, it needs a test above.
    expect([...VERIFY_REASONS].sort()).toEqual(
      ['deleted', 'expired', 'key_inactive', 'malformed', 'not_yet_valid', 'principal_inactive', 'rotated_out', 'unknown', 'wrong_secret'],
    );
  });
});
