/** Provisioning and the first-start bootstrap: once, with a given token if asked, safe under concurrency. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { ConflictError, InvalidArgumentError, PermissionDeniedError } from '../../src/domain/errors.js';
import { generateNgToken } from '../../src/domain/tokens.js';
import { SYSTEM_CALLER } from '../../src/services/context.js';
import { createServices, type Services } from '../../src/services/index.js';
import { bootstrap, provisionAccount } from '../../src/services/provisioning.js';
import { describeEachDb, openTestStore, type TestStore } from '../helpers/databases.js';
import { DAY, START, addUser, callerFromToken, failure, openServiceWorld, reasonOf, verifyOk } from '../helpers/services.js';

describeEachDb('bootstrap', (kind) => {
  let ts: TestStore;
  let services: Services;
  let clock: ManualClock;
  beforeEach(async () => {
    ts = await openTestStore(kind);
    clock = new ManualClock(START);
    services = createServices({ store: ts.store, clock });
  });
  afterEach(async () => ts.cleanup());

  const countOf = async (table: 'accounts' | 'users' | 'api_keys' | 'tokens') =>
    Number((await ts.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  it('creates the account, an operator admin with Account Admin, and a working token, once', async () => {
    const first = await bootstrap(services.ctx, { adminEmail: 'root@example.test' });
    expect(first).not.toBeNull();
    expect(first!.admin).toMatchObject({ email: 'root@example.test', isOperator: true, active: true, accountId: first!.account.id });
    expect(first!.account.name).toBe('Default Account');

    const v = await verifyOk(services, first!.token);
    expect(v.principal).toMatchObject({ type: 'USER', id: first!.admin.id, isOperator: true });
    expect(v.permissions).toContain('core_account_edit');
    expect(v.accountId).toBe(first!.account.id);

    expect(await bootstrap(services.ctx, { adminEmail: 'someone.else@example.test' })).toBeNull();
    expect(await countOf('accounts')).toBe(1);
    expect(await countOf('users')).toBe(1);
    expect(await countOf('tokens')).toBe(1);
  });

  it('uses exactly the given token, whose account id becomes the account id', async () => {
    const given = generateNgToken('USER', 'my_Account-1');
    const p = await bootstrap(services.ctx, { adminEmail: 'root@example.test', token: given.token });
    expect(p).not.toBeNull();
    expect(p!.token).toBe(given.token);
    expect(p!.account.id).toBe('my_Account-1');
    expect(p!.tokenRecord.id).toBe(given.tokenId);

    const v = await verifyOk(services, given.token);
    expect(v).toMatchObject({ accountId: 'my_Account-1', tokenId: given.tokenId, expiresAt: START + 365 * DAY });
    // The same token with another secret is refused: the given secret is what was stored.
    expect(await reasonOf(services, `pat.my_Account-1.${given.tokenId}.${'x'.repeat(20)}`)).toBe('wrong_secret');
  });

  it.each([
    ['garbage', 'not-a-token'],
    ['a service-account token', generateNgToken('SERVICE_ACCOUNT', 'acc1').token],
    ['a legacy token without an account', `pat.${'a'.repeat(24)}.${'b'.repeat(20)}`],
    ['a short secret', `pat.acc1.${'a'.repeat(24)}.${'b'.repeat(19)}`],
  ])('refuses %s as the given token, and writes nothing', async (_what, token) => {
    const err = await failure<InvalidArgumentError>(bootstrap(services.ctx, { adminEmail: 'root@example.test', token }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.violations[0]!.field).toBe('token');
    expect(await countOf('accounts')).toBe(0);
    // The database can still be bootstrapped.
    expect(await bootstrap(services.ctx, { adminEmail: 'root@example.test' })).not.toBeNull();
  });

  it('creates exactly one account when two bootstraps race on one store', async () => {
    const results = await Promise.all([
      bootstrap(services.ctx, { adminEmail: 'root@example.test' }),
      bootstrap(services.ctx, { adminEmail: 'root@example.test' }),
    ]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await countOf('accounts')).toBe(1);
    expect(await countOf('users')).toBe(1);
    const winner = results.find((r) => r !== null)!;
    expect(await reasonOf(services, winner.token)).toBe('valid');
  });

  if (kind === 'postgres') {
    it('creates exactly one account when two nodes (two pools) bootstrap the same schema at once', async () => {
      const { openStore } = await import('../../src/store/database.js');
      const { pgUrl } = await import('../helpers/databases.js');
      const other = await openStore({ databaseUrl: pgUrl()!, pgSchema: ts.pgSchema!, poolSize: 2 });
      try {
        const otherServices = createServices({ store: other, clock });
        const results = await Promise.all([
          bootstrap(services.ctx, { adminEmail: 'root@example.test' }),
          bootstrap(otherServices.ctx, { adminEmail: 'root@example.test' }),
          bootstrap(services.ctx, { adminEmail: 'root@example.test' }),
        ]);
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        expect(await countOf('accounts')).toBe(1);
      } finally {
        await other.close();
      }
    });
  }
});

describeEachDb('provisioning', (kind) => {
  it('lets only the system or an operator create accounts', async () => {
    const w = await openServiceWorld(kind);
    try {
      const err = await failure(provisionAccount(w.services.ctx, w.admin, { accountName: 'Other', adminEmail: 'x@other.test' }));
      expect(err).toBeInstanceOf(PermissionDeniedError);
      const { user } = await addUser(w, 'bob@acme.test', { roleIdentifier: '_account_admin' });
      expect(user.isOperator).toBe(false);

      const p = await provisionAccount(w.services.ctx, SYSTEM_CALLER, { accountId: 'second', accountName: 'Second', adminEmail: 'admin@second.test' });
      expect(p.account.id).toBe('second');
      const secondAdmin = await callerFromToken(w.services, p.token);
      // The second account's admin has no permission in the first.
      await expect(w.services.serviceAccounts.list(secondAdmin, w.accountScope, { offset: 0, limit: 10 })).rejects.toBeInstanceOf(PermissionDeniedError);

      await expect(provisionAccount(w.services.ctx, SYSTEM_CALLER, { accountId: 'second', accountName: 'Again', adminEmail: 'other@second.test' })).rejects.toBeInstanceOf(ConflictError);
      // Emails are unique per account (issue 12, finding 3): another account may use the same address.
      const third = await provisionAccount(w.services.ctx, SYSTEM_CALLER, { accountName: 'Third', adminEmail: 'ADMIN@second.test' });
      expect(third.admin.accountId).not.toBe('second');
      const mismatch = await failure(
        provisionAccount(w.services.ctx, SYSTEM_CALLER, { accountId: 'third', accountName: 'Third', adminEmail: 'a@third.test', token: generateNgToken('USER', 'fourth').token }),
      );
      expect(mismatch).toBeInstanceOf(InvalidArgumentError);
    } finally {
      await w.close();
    }
  });
});
