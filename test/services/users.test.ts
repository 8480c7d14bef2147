/** Users: creation, password sign-in, password changes, deactivation. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, PermissionDeniedError, UnauthenticatedError } from '../../src/domain/errors.js';
import type { User } from '../../src/domain/model.js';
import { describeEachDb } from '../helpers/databases.js';
import { addUser, failure, openServiceWorld, reasonOf, userCaller, userOwner, type ServiceWorld } from '../helpers/services.js';

describeEachDb('users', (kind) => {
  let w: ServiceWorld;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
  });
  afterEach(async () => w.close());

  const createWithPassword = (email: string, password: string) => w.services.users.create(w.admin, w.accountId, { email, name: 'Bob', password });

  it('creates a user, and refuses the same email in another case', async () => {
    const bob = await createWithPassword('Bob@Acme.test', 'old-password-1');
    expect(bob).toMatchObject({ accountId: w.accountId, email: 'Bob@Acme.test', name: 'Bob', hasPassword: true, active: true, isOperator: false });
    expect(await w.services.users.get(w.admin, w.accountId, bob.id)).toEqual(bob);

    const err = await failure(w.services.users.create(w.admin, w.accountId, { email: 'bob@ACME.TEST' }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe('A user with email bob@ACME.TEST already exists');
    // Also against the provisioned admin.
    await expect(w.services.users.create(w.admin, w.accountId, { email: 'ADMIN@acme.test' })).rejects.toBeInstanceOf(ConflictError);
    expect((await w.services.users.list(w.admin, w.accountId, { offset: 0, limit: 10 })).total).toBe(2);
  });

  it('needs core_user_manage to create users, and an operator to create operators', async () => {
    const { caller } = await addUser(w, 'viewer@acme.test', { roleIdentifier: '_account_viewer' });
    await expect(w.services.users.create(caller, w.accountId, { email: 'x@acme.test' })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(w.services.users.create(w.admin, w.accountId, { email: 'op@acme.test', isOperator: true })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('authenticates with email and password, and gives one answer for every failure', async () => {
    await createWithPassword('bob@acme.test', 'old-password-1');
    expect((await w.services.users.authenticate('bob@acme.test', 'old-password-1')).email).toBe('bob@acme.test');
    expect((await w.services.users.authenticate('  BOB@acme.TEST ', 'old-password-1')).email).toBe('bob@acme.test');

    const wrongPassword = await failure<UnauthenticatedError>(w.services.users.authenticate('bob@acme.test', 'old-password-2'));
    const unknownEmail = await failure<UnauthenticatedError>(w.services.users.authenticate('nobody@acme.test', 'old-password-1'));
    const noPassword = await failure<UnauthenticatedError>(w.services.users.authenticate('admin@acme.test', ''));
    for (const e of [wrongPassword, unknownEmail, noPassword]) {
      expect(e).toBeInstanceOf(UnauthenticatedError);
      expect(e.message).toBe('Invalid email or password');
      expect(e.reason).toBe('invalid_credentials');
    }
  });

  it('locks an email after 10 wrong passwords in a row, with the same answer, until the lockout ends', async () => {
    await createWithPassword('bob@acme.test', 'right-password-1');
    await createWithPassword('carol@acme.test', 'right-password-2');
    // Nine failures, then a success: the count starts again.
    for (let i = 0; i < 9; i++) await expect(w.services.users.authenticate('bob@acme.test', `wrong-${i}`)).rejects.toBeInstanceOf(UnauthenticatedError);
    expect((await w.services.users.authenticate('bob@acme.test', 'right-password-1')).email).toBe('bob@acme.test');
    // Ten in a row (in any letter case) lock it: the right password gets the same answer as a wrong one.
    for (let i = 0; i < 10; i++) await expect(w.services.users.authenticate(i % 2 ? 'BOB@acme.test' : 'bob@acme.test', `wrong-${i}`)).rejects.toBeInstanceOf(UnauthenticatedError);
    const locked = await failure<UnauthenticatedError>(w.services.users.authenticate('bob@acme.test', 'right-password-1'));
    expect(locked).toBeInstanceOf(UnauthenticatedError);
    expect(locked.message).toBe('Invalid email or password');
    // Another email is not affected.
    expect((await w.services.users.authenticate('carol@acme.test', 'right-password-2')).email).toBe('carol@acme.test');
    // Still locked a moment before the 15 minutes end; open after.
    w.clock.advance(15 * 60_000 - 1);
    await expect(w.services.users.authenticate('bob@acme.test', 'right-password-1')).rejects.toBeInstanceOf(UnauthenticatedError);
    w.clock.advance(1);
    expect((await w.services.users.authenticate('bob@acme.test', 'right-password-1')).email).toBe('bob@acme.test');
  });

  it('lets users change their own password only by giving the current one', async () => {
    const bob = await createWithPassword('bob@acme.test', 'old-password-1');
    const self = userCaller(bob);

    const missing = await failure<InvalidArgumentError>(w.services.users.setPassword(self, w.accountId, bob.id, { password: 'new-password-1' }));
    expect(missing).toBeInstanceOf(InvalidArgumentError);
    expect(missing.violations[0]!.field).toBe('currentPassword');
    const wrong = await failure(w.services.users.setPassword(self, w.accountId, bob.id, { password: 'new-password-1', currentPassword: 'not-it-at-all' }));
    expect(wrong).toBeInstanceOf(InvalidArgumentError);
    await w.services.users.authenticate('bob@acme.test', 'old-password-1'); // unchanged

    await w.services.users.setPassword(self, w.accountId, bob.id, { password: 'new-password-1', currentPassword: 'old-password-1' });
    await expect(w.services.users.authenticate('bob@acme.test', 'old-password-1')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect((await w.services.users.authenticate('bob@acme.test', 'new-password-1')).id).toBe(bob.id);
  });

  it('lets a user with no password set one without a current password', async () => {
    const { user, caller } = await addUser(w, 'carol@acme.test');
    await w.services.users.setPassword(caller, w.accountId, user.id, { password: 'first-password' });
    expect((await w.services.users.authenticate('carol@acme.test', 'first-password')).id).toBe(user.id);
  });

  it("lets an admin reset anyone's password, and nobody else", async () => {
    const bob = await createWithPassword('bob@acme.test', 'old-password-1');
    const { caller: carol } = await addUser(w, 'carol@acme.test', { roleIdentifier: '_account_viewer' });

    await expect(w.services.users.setPassword(carol, w.accountId, bob.id, { password: 'carol-was-here' })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(w.services.users.authenticate('bob@acme.test', 'carol-was-here')).rejects.toBeInstanceOf(UnauthenticatedError);

    await w.services.users.setPassword(w.admin, w.accountId, bob.id, { password: 'reset-by-admin' });
    expect((await w.services.users.authenticate('bob@acme.test', 'reset-by-admin')).id).toBe(bob.id);
  });

  it('deactivates a user: their tokens and password stop working until reactivated', async () => {
    const bob: User = await createWithPassword('bob@acme.test', 'old-password-1');
    await w.services.apiKeys.create(userCaller(bob), userOwner(w, bob.id), { identifier: 'k', name: 'k' });
    const t = await w.services.tokens.create(userCaller(bob), userOwner(w, bob.id), { identifier: 't', name: 't', apiKeyIdentifier: 'k' });
    expect(await reasonOf(w.services, t.secret)).toBe('valid');

    const updated = await w.services.users.update(w.admin, w.accountId, bob.id, { active: false });
    expect(updated.active).toBe(false);
    expect(await reasonOf(w.services, t.secret)).toBe('principal_inactive');
    await expect(w.services.users.authenticate('bob@acme.test', 'old-password-1')).rejects.toBeInstanceOf(UnauthenticatedError);

    await w.services.users.update(w.admin, w.accountId, bob.id, { active: true });
    expect(await reasonOf(w.services, t.secret)).toBe('valid');
  });

  it('does not let admins deactivate themselves', async () => {
    const err = await failure(w.services.users.update(w.admin, w.accountId, w.provisioned.admin.id, { active: false }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(await reasonOf(w.services, w.provisioned.token)).toBe('valid');
  });
});
