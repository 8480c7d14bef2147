/**
 * Audit (docs/architecture.md): every mutation writes one event in the same transaction; a failed
 * mutation leaves nothing behind but a failure event; no event carries a secret; the log is
 * filtered and keyset-paged.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ConflictError, InvalidArgumentError, PermissionDeniedError } from '../../src/domain/errors.js';
import type { AuditEvent } from '../../src/domain/model.js';
import { makeScope } from '../../src/domain/scope.js';
import { listAuditEvents } from '../../src/store/audit.js';
import { describeEachDb } from '../helpers/databases.js';
import {
  HOUR,
  addServiceAccount,
  addUser,
  callerFromToken,
  failure,
  ngSecretOf,
  openServiceWorld,
  saOwner,
  serviceAccountWithToken,
  type ServiceWorld,
} from '../helpers/services.js';

describeEachDb('audit', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
  });
  afterEach(async () => w.close());

  /** Every event in the database, oldest first. */
  const allEvents = async (): Promise<AuditEvent[]> => (await listAuditEvents(w.ts.store.db, { accountId: w.accountId, limit: 10_000 })).reverse();
  /** Events written since `before` was read (ids, not positions: events in one millisecond sort by random id). */
  const eventsSince = async (before: AuditEvent[]): Promise<AuditEvent[]> => {
    const seen = new Set(before.map((e) => e.id));
    return (await allEvents()).filter((e) => !seen.has(e.id));
  };
  const count = async (table: 'api_keys' | 'service_accounts' | 'tokens' | 'audit_events') =>
    Number((await w.ts.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  it('writes exactly one success event per mutation, naming actor, action, resource, scope and time', async () => {
    const { services, admin } = w;
    const adminId = w.provisioned.admin.id;
    const org = makeScope(w.accountId, 'org1');
    const proj = makeScope(w.accountId, 'org1', 'proj1');
    let bobId = '';
    let assignment = '';
    const steps: Array<[action: string, resourceType: string, resourceId: () => string, scope: typeof org, run: () => Promise<unknown>]> = [
      ['organization.create', 'ORGANIZATION', () => 'org1', w.accountScope, () => services.scopes.createOrganization(admin, w.accountId, { identifier: 'org1', name: 'org1' })],
      ['project.create', 'PROJECT', () => 'proj1', org, () => services.scopes.createProject(admin, w.accountId, 'org1', { identifier: 'proj1', name: 'proj1' })],
      ['serviceaccount.create', 'SERVICEACCOUNT', () => 'sa1', proj, () => addServiceAccount(w, 'sa1', proj)],
      ['serviceaccount.update', 'SERVICEACCOUNT', () => 'sa1', proj, () => services.serviceAccounts.update(admin, proj, 'sa1', { identifier: 'sa1', name: 'renamed', email: 'sa1@service.harness.io' })],
      ['apikey.create', 'API_KEY', () => 'k1', proj, () => services.apiKeys.create(admin, { scope: proj, type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa1' }, { identifier: 'k1', name: 'k1' })],
      ['apikey.update', 'API_KEY', () => 'k1', proj, () => services.apiKeys.update(admin, { scope: proj, type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa1' }, { identifier: 'k1', name: 'k one' })],
      ['apikey.deactivate', 'API_KEY', () => 'k1', proj, () => services.apiKeys.setActive(admin, { scope: proj, type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa1' }, 'k1', false)],
      ['token.create', 'TOKEN', () => 't1', proj, () => services.tokens.create(admin, { scope: proj, type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa1' }, { identifier: 't1', name: 't1', apiKeyIdentifier: 'k1' })],
      ['token.update', 'TOKEN', () => 't1', proj, () => services.tokens.update(admin, { scope: proj, type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa1' }, { identifier: 't1', name: 't one', apiKeyIdentifier: 'k1' })],
      ['token.rotate', 'TOKEN', () => 't1', proj, () => services.tokens.rotate(admin, { scope: proj, type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa1' }, 'k1', 't1', w.clock.now() + HOUR)],
      ['token.delete', 'TOKEN', () => 't1', proj, () => services.tokens.delete(admin, { scope: proj, type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa1' }, 'k1', 't1')],
      ['apikey.delete', 'API_KEY', () => 'k1', proj, () => services.apiKeys.delete(admin, { scope: proj, type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa1' }, 'k1')],
      ['serviceaccount.delete', 'SERVICEACCOUNT', () => 'sa1', proj, () => services.serviceAccounts.delete(admin, proj, 'sa1')],
      ['user.create', 'USER', () => bobId, w.accountScope, async () => (bobId = (await services.users.create(admin, w.accountId, { email: 'bob@acme.test' })).id)],
      ['roleassignment.create', 'ROLEASSIGNMENT', () => assignment, w.accountScope, async () => {
        assignment = (await services.access.createAssignment(admin, w.accountScope, { roleIdentifier: '_account_viewer', principalType: 'USER', principalId: bobId })).identifier;
      }],
      ['roleassignment.delete', 'ROLEASSIGNMENT', () => assignment, w.accountScope, () => services.access.deleteAssignment(admin, w.accountScope, assignment)],
      ['usergroup.create', 'USERGROUP', () => 'ops', w.accountScope, () => services.userGroups.create(admin, { scope: w.accountScope }, { identifier: 'ops', name: 'ops', users: [bobId] })],
      ['user.deactivate', 'USER', () => bobId, w.accountScope, () => services.users.update(admin, w.accountId, bobId, { active: false })],
    ];

    for (const [action, resourceType, resourceId, scope, run] of steps) {
      w.clock.advance(1000);
      const before = await allEvents();
      await run();
      const added = await eventsSince(before);
      expect(added, action).toHaveLength(1);
      expect(added[0], action).toMatchObject({
        accountId: w.accountId,
        orgId: scope.orgId,
        projectId: scope.projectId,
        at: w.clock.now(),
        actorType: 'USER',
        actorId: adminId,
        action,
        resourceType,
        resourceId: resourceId(),
        outcome: 'success',
      });
    }
  });

  it('records who acted when a service account acts, and the system for provisioning', async () => {
    const events = await allEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'account.create', actorType: 'SYSTEM', actorId: 'system', resourceId: w.accountId, outcome: 'success' });

    const { sa, token } = await serviceAccountWithToken(w, 'robot', { role: '_account_admin' });
    const robot = await callerFromToken(w.services, token);
    const before = await allEvents();
    await w.services.serviceAccounts.create(robot, w.accountScope, { identifier: 'made_by_robot', name: 'm', email: 'm@x.io' });
    expect(await eventsSince(before)).toEqual([
      expect.objectContaining({ action: 'serviceaccount.create', actorType: 'SERVICE_ACCOUNT', actorId: sa.id, resourceId: 'made_by_robot', outcome: 'success' }),
    ]);
  });

  it('rolls the mutation back when its audit event cannot be written', async () => {
    await sql`alter table audit_events rename to audit_events_off`.execute(w.ts.store.db);
    try {
      await expect(addServiceAccount(w, 'ghost')).rejects.toThrow();
      await expect(w.services.apiKeys.create(w.admin, { scope: w.accountScope, type: 'USER', parentIdentifier: w.provisioned.admin.id }, { identifier: 'ghost', name: 'ghost' })).rejects.toThrow();
    } finally {
      await sql`alter table audit_events_off rename to audit_events`.execute(w.ts.store.db);
    }
    expect(await w.ts.store.db.selectFrom('service_accounts').select('id').where('identifier', '=', 'ghost').execute()).toEqual([]);
    expect(await w.ts.store.db.selectFrom('api_keys').select('id').where('identifier', '=', 'ghost').execute()).toEqual([]);
  });

  it('leaves nothing but one failure event behind a failed mutation', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'dup', name: 'dup' });
    const keysBefore = await count('api_keys');
    const eventsBefore = await allEvents();
    w.clock.advance(1000);

    const err = await failure(w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'DUP', name: 'dup' }));
    expect(err).toBeInstanceOf(ConflictError);

    expect(await count('api_keys')).toBe(keysBefore);
    const added = await eventsSince(eventsBefore);
    expect(added).toEqual([
      expect.objectContaining({
        action: 'apikey.create',
        resourceId: 'DUP',
        outcome: 'failure',
        actorId: w.provisioned.admin.id,
        at: w.clock.now(),
        details: { error: 'conflict', message: 'Try using different Key name, [DUP] already exists' },
      }),
    ]);
  });

  it('rolls back an auto-created key when the token after it fails', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    const eventsBefore = await allEvents();
    const err = await failure(
      w.services.tokens.create(w.admin, saOwner(sa), { identifier: 't', name: 't', apiKeyIdentifier: 'autoKey', validTo: w.clock.now() - 1 }, { autoCreateKey: true }),
    );
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(await w.ts.store.db.selectFrom('api_keys').select('id').where('identifier', '=', 'autoKey').execute()).toEqual([]);
    const added = await eventsSince(eventsBefore);
    expect(added.map((e) => [e.action, e.outcome])).toEqual([['token.create', 'failure']]);
  });

  it('records a refused mutation as a failure, and writes nothing for it', async () => {
    const { caller } = await addUser(w, 'viewer@acme.test', { roleIdentifier: '_account_viewer' });
    const sa = await addServiceAccount(w, 'sa1');
    const before = await allEvents();
    await expect(w.services.apiKeys.create(caller, saOwner(sa), { identifier: 'k', name: 'k' })).rejects.toBeInstanceOf(PermissionDeniedError);
    const added = await eventsSince(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ action: 'apikey.create', outcome: 'failure', details: { error: 'permission_denied' } });
    expect(await count('api_keys')).toBe(1); // the admin's own
  });

  it('records refusals of service-account, user, organization and project mutations too', async () => {
    const { caller, user } = await addUser(w, 'viewer2@acme.test', { roleIdentifier: '_account_viewer' });
    const sa = await addServiceAccount(w, 'sa_kept');
    const org = await w.services.scopes.createOrganization(w.admin, w.accountId, { identifier: 'org_kept', name: 'org kept' });
    const project = await w.services.scopes.createProject(w.admin, w.accountId, 'org_kept', { identifier: 'proj_kept', name: 'proj kept' });
    const before = await allEvents();
    const acc = makeScope(w.accountId);
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['serviceaccount.create', () => w.services.serviceAccounts.create(caller, acc, { identifier: 'nope', name: 'nope', email: 'nope@service.harness.io' })],
      ['serviceaccount.update', () => w.services.serviceAccounts.update(caller, acc, 'sa_kept', { identifier: 'sa_kept', name: 'renamed', email: sa.email })],
      ['serviceaccount.delete', () => w.services.serviceAccounts.delete(caller, acc, 'sa_kept')],
      ['user.create', () => w.services.users.create(caller, w.accountId, { email: 'new@acme.test', name: 'New' })],
      ['user.deactivate', () => w.services.users.update(caller, w.accountId, w.provisioned.admin.id, { active: false })],
      ['user.password.set', () => w.services.users.setPassword(caller, w.accountId, w.provisioned.admin.id, { password: 'a-new-password-1' })],
      ['organization.create', () => w.services.scopes.createOrganization(caller, w.accountId, { identifier: 'org_no', name: 'no' })],
      ['organization.update', () => w.services.scopes.updateOrganization(caller, w.accountId, 'org_kept', { identifier: 'org_kept', name: 'renamed' })],
      ['organization.delete', () => w.services.scopes.deleteOrganization(caller, w.accountId, 'org_kept')],
      ['project.create', () => w.services.scopes.createProject(caller, w.accountId, 'org_kept', { identifier: 'proj_no', name: 'no' })],
      ['project.update', () => w.services.scopes.updateProject(caller, w.accountId, 'org_kept', 'proj_kept', { identifier: 'proj_kept', name: 'renamed' })],
      ['project.delete', () => w.services.scopes.deleteProject(caller, w.accountId, 'org_kept', 'proj_kept')],
    ];
    // One at a time: each call starts only when awaited, so no rejection goes unhandled.
    for (const [, attempt] of attempts) await expect(attempt()).rejects.toBeInstanceOf(PermissionDeniedError);
    const added = await eventsSince(before);
    expect(added.map((e) => e.action).sort()).toEqual(attempts.map(([a]) => a).sort());
    for (const e of added) {
      expect(e).toMatchObject({ actorType: 'USER', actorId: user.id, outcome: 'failure', details: { error: 'permission_denied' } });
    }
    // Nothing was written by any of them.
    expect(await count('service_accounts')).toBe(1);
    expect((await w.services.serviceAccounts.get(w.admin, acc, 'sa_kept')).name).toBe(sa.name);
    expect((await w.services.scopes.getOrganization(w.admin, w.accountId, 'org_kept')).name).toBe(org.name);
    expect((await w.services.scopes.getProject(w.admin, w.accountId, 'org_kept', 'proj_kept')).name).toBe(project.name);
  });

  it('never puts a token secret in an event', async () => {
    const sa = await addServiceAccount(w, 'sa1');
    await w.services.apiKeys.create(w.admin, saOwner(sa), { identifier: 'k', name: 'k' });
    const a = await w.services.tokens.create(w.admin, saOwner(sa), { identifier: 'a', name: 'a', apiKeyIdentifier: 'k' });
    const b = await w.services.tokens.rotate(w.admin, saOwner(sa), 'k', 'a', w.clock.now() + HOUR);
    const c = await w.services.tokens.create(w.admin, saOwner(sa), { identifier: 'c', name: 'c', apiKeyIdentifier: 'autoKey' }, { autoCreateKey: true });
    await w.services.tokens.delete(w.admin, saOwner(sa), 'k', 'a');
    await expect(w.services.tokens.create(w.admin, saOwner(sa), { identifier: 'C', name: 'c', apiKeyIdentifier: 'autoKey' })).rejects.toBeInstanceOf(ConflictError);

    const raw = JSON.stringify(await w.ts.store.db.selectFrom('audit_events').selectAll().execute());
    expect(raw).toContain('token.rotate'); // the dump holds the events...
    for (const plain of [w.provisioned.token, a.secret, b.secret, c.secret]) {
      expect(raw).not.toContain(ngSecretOf(plain)); // ...and no secret
      expect(raw).not.toContain(plain);
    }
  });

  it('lists the log filtered by actor, action, resource and time, newest first, paged by cursor', async () => {
    const bob = await addUser(w, 'bob@acme.test', { roleIdentifier: '_account_admin' });
    const t1 = w.clock.now() + HOUR;
    w.clock.set(t1);
    await addServiceAccount(w, 'a'); // admin, t1
    w.clock.set(t1 + HOUR);
    await w.services.serviceAccounts.create(bob.caller, w.accountScope, { identifier: 'b', name: 'b', email: 'b@x.io' }); // bob, t1+1h
    w.clock.set(t1 + 2 * HOUR);
    await w.services.serviceAccounts.delete(w.admin, w.accountScope, 'a'); // admin, t1+2h
    w.clock.set(t1 + 3 * HOUR);
    await w.services.serviceAccounts.update(bob.caller, w.accountScope, 'b', { identifier: 'b', name: 'bee', email: 'b@x.io' }); // bob, t1+3h

    const list = (f: Partial<Parameters<typeof w.services.audit.list>[1]>) =>
      w.services.audit.list(w.admin, { accountId: w.accountId, limit: 100, ...f }).then((r) => r.items.map((e) => `${e.action}:${e.resourceId}`));

    expect(await list({ actorId: bob.user.id })).toEqual(['serviceaccount.update:b', 'serviceaccount.create:b']);
    expect(await list({ action: 'serviceaccount.create' })).toEqual(['serviceaccount.create:b', 'serviceaccount.create:a']);
    expect(await list({ resourceType: 'SERVICEACCOUNT', resourceId: 'a' })).toEqual(['serviceaccount.delete:a', 'serviceaccount.create:a']);
    expect(await list({ from: t1 + HOUR, to: t1 + 2 * HOUR })).toEqual(['serviceaccount.delete:a', 'serviceaccount.create:b']);

    // Paging: walk the whole log two at a time and get exactly the unpaged list.
    const full = (await w.services.audit.list(w.admin, { accountId: w.accountId, limit: 1000 })).items;
    expect(full.length).toBeGreaterThan(5);
    const walked: AuditEvent[] = [];
    let before: { at: number; id: string } | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await w.services.audit.list(w.admin, { accountId: w.accountId, limit: 2, ...(before ? { before } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      walked.push(...page.items);
      if (!page.nextCursor) break;
      before = page.nextCursor;
    }
    expect(walked.map((e) => e.id)).toEqual(full.map((e) => e.id));
    for (let i = 1; i < full.length; i++) expect(full[i - 1]!.at).toBeGreaterThanOrEqual(full[i]!.at);
  });

  it('lets only holders of core_audit_view read the log', async () => {
    const { caller } = await addUser(w, 'nobody@acme.test');
    const err = await failure<PermissionDeniedError>(w.services.audit.list(caller, { accountId: w.accountId, limit: 10 }));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.failedChecks[0]!.permission).toBe('core_audit_view');
  });
});
