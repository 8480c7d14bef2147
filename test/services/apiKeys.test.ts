/** API keys (docs/compat/harness-ng.md): ownership, permissions, limits, duplicates, cascade. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, LimitExceededError, NotFoundError, PermissionDeniedError } from '../../src/domain/errors.js';
import { makeScope } from '../../src/domain/scope.js';
import { DEFAULT_TOKEN_TTL_MS } from '../../src/services/context.js';
import { describeEachDb } from '../helpers/databases.js';
import {
  HOUR,
  addServiceAccount,
  addUser,
  failure,
  openServiceWorld,
  reasonOf,
  saOwner,
  serviceAccountWithToken,
  callerFromToken,
  userOwner,
  type ServiceWorld,
} from '../helpers/services.js';

describeEachDb('API keys', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
  });
  afterEach(async () => w.close());

  const adminId = () => w.provisioned.admin.id;

  it('creates, reads, lists, updates and deletes a personal key', async () => {
    const owner = userOwner(w, adminId());
    const key = await w.services.apiKeys.create(w.admin, owner, {
      identifier: 'laptop',
      name: 'Laptop',
      description: 'my laptop',
      tags: { os: 'linux' },
      defaultTimeToExpireToken: HOUR,
    });
    expect(key).toMatchObject({
      identifier: 'laptop',
      name: 'Laptop',
      type: 'USER',
      parentIdentifier: adminId(),
      userId: adminId(),
      serviceAccountId: null,
      defaultTimeToExpireToken: HOUR,
      scope: w.accountScope,
      active: true,
      createdAt: w.clock.now(),
    });

    await w.services.tokens.create(w.admin, owner, { identifier: 't1', name: 't1', apiKeyIdentifier: 'laptop' });
    const got = await w.services.apiKeys.get(w.admin, owner, 'laptop');
    expect(got).toMatchObject({ id: key.id, description: 'my laptop', tags: { os: 'linux' }, tokensCount: 1 });

    const listed = await w.services.apiKeys.list(w.admin, owner, { offset: 0, limit: 10, sort: [{ field: 'identifier', desc: false }] });
    expect(listed.items.map((k) => k.identifier)).toEqual(['admin', 'laptop']);
    expect(listed.total).toBe(2);
    expect((await w.services.apiKeys.list(w.admin, owner, { offset: 0, limit: 10, search: 'LAP' })).items.map((k) => k.identifier)).toEqual(['laptop']);

    w.clock.advance(5000);
    const updated = await w.services.apiKeys.update(w.admin, owner, { identifier: 'laptop', name: 'Work laptop', tags: { os: 'mac' } });
    expect(updated).toMatchObject({ id: key.id, name: 'Work laptop', description: '', tags: { os: 'mac' }, createdAt: key.createdAt, updatedAt: w.clock.now() });

    const deleted = await w.services.apiKeys.delete(w.admin, owner, 'laptop');
    expect(deleted.id).toBe(key.id);
    const err = await failure(w.services.apiKeys.get(w.admin, owner, 'laptop'));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe(
      `API key with identifier [laptop] does not exist in account [${w.accountId}], org [], project [] for apiKeyType [USER], parentIdentifier [${adminId()}]`,
    );
  });

  it('stores a personal key given an org and project at account scope', async () => {
    const owner = { scope: makeScope(w.accountId, 'someOrg', 'someProject'), type: 'USER' as const, parentIdentifier: adminId() };
    const key = await w.services.apiKeys.create(w.admin, owner, { identifier: 'k1', name: 'k1' });
    expect(key.scope).toEqual(w.accountScope);
    const row = await w.ts.store.db.selectFrom('api_keys').select(['org_id', 'project_id']).where('id', '=', key.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ org_id: '', project_id: '' });
    // Found again at account scope, and through the same org/project-qualified owner.
    expect((await w.services.apiKeys.get(w.admin, userOwner(w, adminId()), 'k1')).id).toBe(key.id);
    expect((await w.services.apiKeys.get(w.admin, owner, 'k1')).id).toBe(key.id);
  });

  it('lets only the user manage their own personal keys', async () => {
    const bob = await addUser(w, 'bob@acme.test', { roleIdentifier: '_account_admin' });
    // Even an Account Admin cannot create a key for another user.
    const err = await failure<PermissionDeniedError>(w.services.apiKeys.create(bob.caller, userOwner(w, adminId()), { identifier: 'k1', name: 'k1' }));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.message).toContain(`User [${bob.user.id}] not authenticated`);
    await expect(w.services.apiKeys.list(bob.caller, userOwner(w, adminId()), { offset: 0, limit: 10 })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(w.services.apiKeys.delete(bob.caller, userOwner(w, adminId()), 'admin')).rejects.toBeInstanceOf(PermissionDeniedError);

    // Bob manages his own.
    const own = await w.services.apiKeys.create(bob.caller, userOwner(w, bob.user.id), { identifier: 'k1', name: 'k1' });
    expect(own.userId).toBe(bob.user.id);
  });

  it('refuses personal keys to a service-account caller', async () => {
    const { token } = await serviceAccountWithToken(w, 'robot', { role: '_account_admin' });
    const robot = await callerFromToken(w.services, token);
    expect(robot.actor.type).toBe('SERVICE_ACCOUNT');
    const err = await failure(w.services.apiKeys.create(robot, userOwner(w, adminId()), { identifier: 'k1', name: 'k1' }));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.message).toBe('No user identifier present in context');
  });

  it('needs core_serviceaccount_manageapikey for service-account keys', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    const viewer = await addUser(w, 'viewer@acme.test', { roleIdentifier: '_account_viewer' });
    const nobody = await addUser(w, 'nobody@acme.test');
    const admin2 = await addUser(w, 'admin2@acme.test', { roleIdentifier: '_account_admin' });

    for (const caller of [viewer.caller, nobody.caller]) {
      const err = await failure<PermissionDeniedError>(w.services.apiKeys.create(caller, saOwner(sa), { identifier: 'k1', name: 'k1' }));
      expect(err).toBeInstanceOf(PermissionDeniedError);
      expect(err.failedChecks).toEqual([
        { permission: 'core_serviceaccount_manageapikey', resourceType: 'SERVICEACCOUNT', resourceIdentifier: 'sa1', scope: w.accountScope },
      ]);
      expect(err.message).toContain('Missing permission core_serviceaccount_manageapikey on serviceaccount with identifier sa1');
    }
    // A viewer may read the keys, not change them.
    expect((await w.services.apiKeys.list(viewer.caller, saOwner(sa), { offset: 0, limit: 10 })).total).toBe(0);

    // A user who holds the permission (not the system, not the provisioned admin) creates it.
    const key = await w.services.apiKeys.create(admin2.caller, saOwner(sa), { identifier: 'k1', name: 'k1' });
    expect(key).toMatchObject({ type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa1', serviceAccountId: sa.id, userId: null, scope: w.accountScope });
  });

  it('says which service account is missing', async () => {
    const err = await failure(w.services.apiKeys.create(w.admin, { scope: w.accountScope, type: 'SERVICE_ACCOUNT', parentIdentifier: 'ghost' }, { identifier: 'k1', name: 'k1' }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe(
      `Service account with identifier [ghost] is not found in the given scope accountIdentifier [${w.accountId}], orgIdentifier [], projectIdentifier []`,
    );
  });

  it('allows 5 keys per parent per scope, then says the limit has been reached', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    for (let i = 1; i <= 5; i++) await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: `k${i}`, name: `k${i}` });
    const err = await failure<LimitExceededError>(w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'k6', name: 'k6' }));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err.message).toBe('Maximum limit has reached');
    expect(err.limit).toBe(5);
    // The limit is per parent: another service account still has room.
    const sa2 = await addServiceAccount(w, 'sa2');
    await w.services.apiKeys.create(w.admin, saOwner(sa2), { identifier: 'k1', name: 'k1' });
    // Deleting one makes room again.
    await w.services.apiKeys.delete(w.admin, saOwner(sa), 'k1');
    await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'k6', name: 'k6' });
  });

  it('refuses a duplicate identifier that differs only in case, in the spec words', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'deployKey', name: 'k' });
    const err = await failure(w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'DEPLOYKEY', name: 'k' }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe('Try using different Key name, [DEPLOYKEY] already exists');
    // Lookups stay exact: the key is found by its own spelling only.
    await expect(w.services.apiKeys.get(w.admin, saOwner(sa), 'DEPLOYKEY')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('validates the fields in the spec words', async () => {
    const err = await failure<InvalidArgumentError>(
      w.services.apiKeys.create(w.admin, userOwner(w, adminId()), { identifier: '9lives', name: '', description: 'd'.repeat(1025), defaultTimeToExpireToken: -1 }),
    );
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.violations.map((v) => v.field)).toEqual(['identifier', 'name', 'description', 'defaultTimeToExpireToken']);
    expect(err.message).toContain('name: cannot be empty.');
  });

  it('resets the default token lifetime to 30 days when an update omits it', async () => {
    const owner = userOwner(w, adminId());
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'k1', name: 'k1', defaultTimeToExpireToken: HOUR });
    const updated = await w.services.apiKeys.update(w.admin, owner, { identifier: 'k1', name: 'k1' });
    expect(updated.defaultTimeToExpireToken).toBe(DEFAULT_TOKEN_TTL_MS);
    expect((await w.services.apiKeys.get(w.admin, owner, 'k1')).defaultTimeToExpireToken).toBe(30 * 24 * HOUR);
    // A token made after the update gets the 30-day lifetime.
    const t = await w.services.tokens.create(w.admin, owner, { identifier: 't', name: 't', apiKeyIdentifier: 'k1' });
    expect(t.token.validTo).toBe(w.clock.now() + DEFAULT_TOKEN_TTL_MS);
  });

  it('says a missing key does not exist on update and delete', async () => {
    const owner = userOwner(w, adminId());
    await expect(w.services.apiKeys.update(w.admin, owner, { identifier: 'ghost', name: 'g' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(w.services.apiKeys.delete(w.admin, owner, 'ghost')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes the tokens with the key', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'k1', name: 'k1' });
    const a = await w.services.tokens.create(w.admin, saOwner(sa), { identifier: 'a', name: 'a', apiKeyIdentifier: 'k1' });
    const b = await w.services.tokens.create(w.admin, saOwner(sa), { identifier: 'b', name: 'b', apiKeyIdentifier: 'k1' });
    expect(await reasonOf(w.services, a.secret)).toBe('valid');

    await w.services.apiKeys.delete(w.admin, saOwner(sa), 'k1');

    expect(await reasonOf(w.services, a.secret)).toBe('deleted');
    expect(await reasonOf(w.services, b.secret)).toBe('deleted');
    expect(await w.ts.store.db.selectFrom('tokens').select('id').where('api_key_id', '=', a.token.apiKeyId).execute()).toEqual([]);
    // The admin's own key and token are untouched.
    expect(await reasonOf(w.services, w.provisioned.token)).toBe('valid');
  });
});

describeEachDb('API key limits', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind, { limits: { apiKeysPerParent: 2 } });
  });
  afterEach(async () => w.close());

  it('are configurable through createServices', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'k1', name: 'k1' });
    await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'k2', name: 'k2' });
    const err = await failure<LimitExceededError>(w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'k3', name: 'k3' }));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err.limit).toBe(2);
  });
});
