/** Service accounts (docs/compat/harness-ng.md "Rules"): create, update, delete with cascade, list. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../../src/domain/errors.js';
import { makeScope } from '../../src/domain/scope.js';
import { describeEachDb } from '../helpers/databases.js';
import { addServiceAccount, addUser, failure, openServiceWorld, reasonOf, saOwner, type ServiceWorld } from '../helpers/services.js';

describeEachDb('service accounts', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
  });
  afterEach(async () => w.close());

  it('creates a service account with a lower-cased email, in a project scope', async () => {
    await w.services.scopes.createOrganization(w.admin, w.accountId, { identifier: 'org1', name: 'Org 1' });
    await w.services.scopes.createProject(w.admin, w.accountId, 'org1', { identifier: 'proj1', name: 'Project 1' });
    const scope = makeScope(w.accountId, 'org1', 'proj1');

    const sa = await w.services.serviceAccounts.create(w.admin, scope, {
      identifier: 'deployer',
      name: 'Deployer',
      email: 'Deployer@Service.Harness.io',
      description: 'ships things',
      tags: { team: 'platform' },
    });

    expect(sa).toMatchObject({ identifier: 'deployer', name: 'Deployer', email: 'deployer@service.harness.io', scope, active: true, tags: { team: 'platform' } });
    expect(await w.services.serviceAccounts.get(w.admin, scope, 'deployer')).toMatchObject(sa);
    // It lives in that scope only.
    await expect(w.services.serviceAccounts.get(w.admin, w.accountScope, 'deployer')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a scope that does not exist, in the spec words', async () => {
    const err = await failure(w.services.serviceAccounts.create(w.admin, makeScope(w.accountId, 'o', 'p'), { identifier: 'sa1', name: 'sa1', email: 'sa1@x.io' }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toBe(`Project [p] in Org [o] and Account [${w.accountId}] does not exist`);
  });

  it('refuses a duplicate identifier, but allows one differing in case', async () => {
    await addServiceAccount(w, 'sa1');
    const err = await failure(addServiceAccount(w, 'sa1'));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe('A service account with identifier sa1 is already present or was deleted in scope');

    const upper = await addServiceAccount(w, 'SA1');
    expect(upper.identifier).toBe('SA1');
  });

  it('rejects invalid fields before touching anything', async () => {
    const err = await failure<InvalidArgumentError>(w.services.serviceAccounts.create(w.admin, w.accountScope, { identifier: 'org', name: 'bad!', email: 'nope' }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.violations.map((v) => v.field)).toEqual(['identifier', 'name', 'email']);
    expect(err.message).toContain('identifier: org is a keyword, so cannot be used');
  });

  it('needs core_serviceaccount_edit to create', async () => {
    const { caller } = await addUser(w, 'viewer@acme.test', { roleIdentifier: '_account_viewer' });
    const err = await failure<PermissionDeniedError>(w.services.serviceAccounts.create(caller, w.accountScope, { identifier: 'sa1', name: 'sa1', email: 'sa1@x.io' }));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.failedChecks[0]).toMatchObject({ permission: 'core_serviceaccount_edit', resourceType: 'SERVICEACCOUNT', resourceIdentifier: 'sa1' });
  });

  it('updates by replacing name, description and tags; the email cannot change', async () => {
    await w.services.serviceAccounts.create(w.admin, w.accountScope, {
      identifier: 'sa1',
      name: 'Old',
      email: 'sa1@service.harness.io',
      description: 'old description',
      tags: { a: '1', b: '2' },
    });
    w.clock.advance(1000);

    const updated = await w.services.serviceAccounts.update(w.admin, w.accountScope, 'sa1', {
      identifier: 'sa1',
      name: 'New name',
      email: 'SA1@service.harness.io', // same email, other case: still the same
      tags: { c: '3' },
    });
    expect(updated).toMatchObject({ name: 'New name', description: '', tags: { c: '3' }, email: 'sa1@service.harness.io', updatedAt: w.clock.now() });
    expect(await w.services.serviceAccounts.get(w.admin, w.accountScope, 'sa1')).toEqual(updated);

    const err = await failure(w.services.serviceAccounts.update(w.admin, w.accountScope, 'sa1', { identifier: 'sa1', name: 'x', email: 'other@service.harness.io' }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((await w.services.serviceAccounts.get(w.admin, w.accountScope, 'sa1')).email).toBe('sa1@service.harness.io');
  });

  it('refuses an update whose body identifier differs from the path', async () => {
    await addServiceAccount(w, 'sa1');
    const err = await failure(w.services.serviceAccounts.update(w.admin, w.accountScope, 'sa1', { identifier: 'sa2', name: 'x', email: 'sa1@service.harness.io' }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toBe('Value mismatch, previous: sa1 current: sa2');
  });

  it('says a missing service account does not exist on update and delete', async () => {
    const upd = await failure(w.services.serviceAccounts.update(w.admin, w.accountScope, 'ghost', { identifier: 'ghost', name: 'x', email: 'g@x.io' }));
    expect(upd).toBeInstanceOf(NotFoundError);
    expect(upd.message).toBe("Service account with identifier: ghost doesn't exist");
    await expect(w.services.serviceAccounts.delete(w.admin, w.accountScope, 'ghost')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes the service account with its API keys and tokens, which then verify as deleted', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    const owner = saOwner(sa);
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'k1', name: 'k1' });
    await w.services.apiKeys.create(w.admin, owner, { identifier: 'k2', name: 'k2' });
    const t1 = await w.services.tokens.create(w.admin, owner, { identifier: 't1', name: 't1', apiKeyIdentifier: 'k1' });
    const t2 = await w.services.tokens.create(w.admin, owner, { identifier: 't2', name: 't2', apiKeyIdentifier: 'k2' });
    // A neighbour that must survive.
    const other = await addServiceAccount(w, 'sa2');
    await w.services.apiKeys.create(w.admin, saOwner(other), { identifier: 'k1', name: 'k1' });
    const survivor = await w.services.tokens.create(w.admin, saOwner(other), { identifier: 't1', name: 't1', apiKeyIdentifier: 'k1' });
    expect(await reasonOf(w.services, t1.secret)).toBe('valid');

    await w.services.serviceAccounts.delete(w.admin, w.accountScope, 'sa1');

    expect(await reasonOf(w.services, t1.secret)).toBe('deleted');
    expect(await reasonOf(w.services, t2.secret)).toBe('deleted');
    expect(await reasonOf(w.services, survivor.secret)).toBe('valid');
    const db = w.ts.store.db;
    expect(await db.selectFrom('api_keys').select('id').where('service_account_id', '=', sa.id).execute()).toEqual([]);
    expect(await db.selectFrom('tokens').select('id').where('id', 'in', [t1.token.id, t2.token.id]).execute()).toEqual([]);
    await expect(w.services.serviceAccounts.get(w.admin, w.accountScope, 'sa1')).rejects.toBeInstanceOf(NotFoundError);
    // The identifier can be used again.
    await addServiceAccount(w, 'sa1');
  });

  it('lists with search, identifiers, paging and sort', async () => {
    const make = (identifier: string, name: string, tags: Record<string, string> = {}) =>
      w.services.serviceAccounts.create(w.admin, w.accountScope, { identifier, name, email: `${identifier}@x.io`, tags });
    await make('alpha', 'Alpha Deployer');
    w.clock.advance(1);
    await make('beta', 'Beta', { env: 'Production' });
    w.clock.advance(1);
    await make('gamma_1', 'Gamma');
    w.clock.advance(1);
    await make('delta', 'Delta', { share: '100%' });
    const list = (q: Parameters<typeof w.services.serviceAccounts.list>[2]) => w.services.serviceAccounts.list(w.admin, w.accountScope, q);
    const ids = (r: { items: { identifier: string }[] }) => r.items.map((s) => s.identifier);

    // Default order: last modified first.
    expect(ids(await list({ offset: 0, limit: 50 }))).toEqual(['delta', 'gamma_1', 'beta', 'alpha']);
    // Search is case-insensitive over name, identifier and tags.
    expect(ids(await list({ offset: 0, limit: 50, search: 'DEPLOY' }))).toEqual(['alpha']);
    expect(ids(await list({ offset: 0, limit: 50, search: 'production' }))).toEqual(['beta']);
    expect(ids(await list({ offset: 0, limit: 50, search: 'MMA' }))).toEqual(['gamma_1']);
    // LIKE wildcards are matched literally.
    expect(ids(await list({ offset: 0, limit: 50, search: '_' }))).toEqual(['gamma_1']);
    expect(ids(await list({ offset: 0, limit: 50, search: '%' }))).toEqual(['delta']);
    // Identifiers filter.
    expect(ids(await list({ offset: 0, limit: 50, identifiers: ['beta', 'alpha', 'nope'], sort: [{ field: 'identifier', desc: false }] }))).toEqual(['alpha', 'beta']);
    // Sort by identifier, paged.
    const page1 = await list({ offset: 0, limit: 3, sort: [{ field: 'identifier', desc: false }] });
    const page2 = await list({ offset: 3, limit: 3, sort: [{ field: 'identifier', desc: false }] });
    expect(ids(page1)).toEqual(['alpha', 'beta', 'delta']);
    expect(ids(page2)).toEqual(['gamma_1']);
    expect(page1.total).toBe(4);
    expect(page2.total).toBe(4);
    expect(ids(await list({ offset: 0, limit: 2, sort: [{ field: 'name', desc: true }] }))).toEqual(['gamma_1', 'delta']);
    // A page past the end is empty but keeps the total.
    expect(await list({ offset: 10, limit: 5 })).toEqual({ items: [], total: 4 });
  });
});
