/** Users of an account: created by admins, signing in with a password or with their own tokens. */
import { ConflictError, InvalidArgumentError, NotFoundError, UnauthenticatedError } from '../domain/errors.js';
import { newUserId } from '../domain/ids.js';
import type { User } from '../domain/model.js';
import { checkPassword, hashPassword, verifyPassword } from '../domain/passwords.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope } from '../domain/scope.js';
import { checkEmail, validate } from '../domain/validation.js';
import { isUniqueViolation, type Db } from '../store/database.js';
import * as store from '../store/users.js';
import type { AccessService } from './access.js';
import { audited, mutate, recordSignInFailure } from './audit.js';
import type { Caller, ServiceContext } from './context.js';
import { assertScopeExists } from './scopes.js';

export interface CreateUserInput {
  email: string;
  name?: string | null;
  password?: string | null;
  isOperator?: boolean;
}

export function checkUserName(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') return 'must be a string';
  if (v.length > 128) return 'cannot be more than 128 characters long.';
  return null;
}

/** Failed password sign-ins per (address, email); bounded, so a flood of made-up emails cannot grow it without end. */
const MAX_TRACKED_EMAILS = 10_000;
/** Accounts one email is looked up in at sign-in (each costs a KDF run). */
const MAX_ACCOUNTS_PER_EMAIL = 16;

export interface SignInMeta {
  /** The account to sign in to; without it, the account whose user the password opens. */
  accountId?: string | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  /** Which front door: `console` or `zenml`. */
  client?: string | undefined;
  requestId?: string | undefined;
}

export class UserService {
  /** Keyed by client address and email. */
  private readonly signInFailures = new Map<string, { count: number; since: number; lockedUntil: number }>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessService,
  ) {}

  /** Creates the user. Inside `tx` (bootstrap, account creation) the caller owns the transaction and audit. */
  async create(caller: Caller, accountId: string, input: CreateUserInput, tx?: Db): Promise<User> {
    validate([
      ['email', checkEmail(input.email)],
      ['name', checkUserName(input.name)],
      ['password', input.password === undefined || input.password === null ? null : checkPassword(input.password)],
    ]);
    const scope = makeScope(accountId);
    if (input.isOperator && caller.actor.type !== 'SYSTEM' && !(caller.actor.type === 'USER' && caller.actor.isOperator)) {
      throw new InvalidArgumentError('isOperator: only a system operator can create another operator', [{ field: 'isOperator', message: 'only a system operator can create another operator' }]);
    }
    const now = this.ctx.clock.now();
    const email = input.email.trim();
    const user: User = {
      id: newUserId(),
      accountId,
      email,
      name: input.name?.trim() || email.split('@')[0]!,
      hasPassword: !!input.password,
      active: true,
      isOperator: input.isOperator ?? false,
      createdAt: now,
      updatedAt: now,
    };
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    const write = async (db: Db) => {
      await assertScopeExists(db, scope);
      try {
        await store.insertUser(db, user, passwordHash);
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`A user with email ${email} already exists`, 'user', 'email');
        throw e;
      }
    };
    if (tx) {
      await write(tx);
      return user;
    }
    return mutate(this.ctx, caller, { action: 'user.create', resourceType: RESOURCE.user, scope }, async (t) => {
      await this.access.require(caller, P.userManage, { type: RESOURCE.user, identifier: null }, scope, t);
      await write(t);
      return { result: user, resourceId: user.id, details: { email } };
    });
  }

  async get(caller: Caller, accountId: string, userId: string): Promise<User> {
    const self = caller.actor.type === 'USER' && caller.actor.id === userId;
    if (!self) await this.access.require(caller, P.userView, { type: RESOURCE.user, identifier: userId }, makeScope(accountId));
    const u = await store.getUser(this.ctx.store.db, userId);
    if (!u || u.accountId !== accountId) throw new NotFoundError(`User [${userId}] does not exist in account [${accountId}]`, 'user', userId);
    return u;
  }

  async list(caller: Caller, accountId: string, opts: { offset: number; limit: number; search?: string }) {
    await this.access.require(caller, P.userView, { type: RESOURCE.user, identifier: null }, makeScope(accountId));
    return store.listUsers(this.ctx.store.db, accountId, opts);
  }

  async update(caller: Caller, accountId: string, userId: string, patch: { name?: string; active?: boolean }): Promise<User> {
    validate([['name', checkUserName(patch.name)]]);
    const scope = makeScope(accountId);
    const action = patch.active === false ? 'user.deactivate' : patch.active === true ? 'user.activate' : 'user.update';
    return mutate(this.ctx, caller, { action, resourceType: RESOURCE.user, resourceId: userId, scope }, async (tx) => {
      await this.access.require(caller, P.userManage, { type: RESOURCE.user, identifier: userId }, scope, tx);
      if (patch.active === false && caller.actor.type === 'USER' && caller.actor.id === userId) {
        throw new InvalidArgumentError('active: you cannot deactivate yourself', [{ field: 'active', message: 'you cannot deactivate yourself' }]);
      }
      const u = await store.getUser(tx, userId);
      if (!u || u.accountId !== accountId) throw new NotFoundError(`User [${userId}] does not exist in account [${accountId}]`, 'user', userId);
      const now = this.ctx.clock.now();
      await store.updateUser(tx, userId, { ...patch, updatedAt: now });
      const next = { ...u, ...(patch.name !== undefined ? { name: patch.name } : {}), ...(patch.active !== undefined ? { active: patch.active } : {}), updatedAt: now };
      return { result: next, invalidate: [{ kind: 'principal', principalId: userId }] };
    });
  }

  /**
   * Sets or resets a password. A user may change their own by giving the current one; an admin with
   * core_user_manage may reset anyone's in the account.
   */
  async setPassword(caller: Caller, accountId: string, userId: string, input: { password: string; currentPassword?: string | null }): Promise<void> {
    validate([['password', checkPassword(input.password)]]);
    const scope = makeScope(accountId);
    const self = caller.actor.type === 'USER' && caller.actor.id === userId;
    const meta = { action: 'user.password.set', resourceType: RESOURCE.user, resourceId: userId, scope };
    // Checked before hashing (scrypt is slow) and outside the transaction, so a refusal is audited here.
    await audited(this.ctx, caller, meta, async () => {
      if (self && (await this.access.can({ type: 'USER', id: userId, accountId }, P.userManage, scope))) return;
      if (!self) return this.access.require(caller, P.userManage, { type: RESOURCE.user, identifier: userId }, scope);
      const creds = await this.credentialsOf(userId);
      if (creds.passwordHash !== null && !(await verifyPassword(input.currentPassword ?? '', creds.passwordHash))) {
        throw InvalidArgumentError.field('currentPassword', 'does not match the current password');
      }
    });
    const hash = await hashPassword(input.password);
    await mutate(this.ctx, caller, meta, async (tx) => {
      const u = await store.getUser(tx, userId);
      if (!u || u.accountId !== accountId) throw new NotFoundError(`User [${userId}] does not exist in account [${accountId}]`, 'user', userId);
      await store.updateUser(tx, userId, { passwordHash: hash, updatedAt: this.ctx.clock.now() });
      return { result: undefined };
    });
  }

  private async credentialsOf(userId: string): Promise<{ passwordHash: string | null }> {
    const u = await store.getUser(this.ctx.store.db, userId);
    if (!u) throw new NotFoundError(`User [${userId}] does not exist`, 'user', userId);
    return { passwordHash: await store.getPasswordHash(this.ctx.store.db, userId) };
  }

  /**
   * Email and password sign-in (console and ZenML). Every failure is the same answer after the same
   * work, and is audited (never the password).
   *
   * Emails are unique per account, so an email may name users of several accounts. The account is
   * the one given, else the one whose user the password opens: every candidate's hash is checked
   * (concurrently), and exactly one must match. Two matches (the same person with the same password
   * in two accounts) must name the account.
   *
   * Throttling: after `limits.signInFailures` wrong passwords in a row from one client address for
   * one email, that address is locked out of that email for `limits.signInLockoutMs` (on this node),
   * even with the right password. Another address, the real user's, is not affected, so an outsider
   * cannot lock a user out; behind a proxy, set KEYWARD_TRUST_PROXY so the address is the client's.
   */
  async authenticate(email: string, password: string, meta: SignInMeta = {}): Promise<User> {
    const key = typeof email === 'string' ? email.trim().toLowerCase() : '';
    const pw = typeof password === 'string' ? password : '';
    const now = this.ctx.clock.now();
    const { signInFailures: maxFailures, signInLockoutMs: lockoutMs } = this.ctx.limits;
    const throttleKey = `${meta.ip ?? ''}\u0000${key}`;
    let record = this.signInFailures.get(throttleKey);
    if (record && record.lockedUntil <= now && now - record.since >= lockoutMs) {
      this.signInFailures.delete(throttleKey);
      record = undefined;
    }
    const candidates = key !== '' ? await store.listUserCredentialsByEmail(this.ctx.store.db, key, { accountId: meta.accountId, limit: MAX_ACCOUNTS_PER_EMAIL }) : [];
    // At least one KDF run, so an unknown email costs what a known one does.
    const checks = await Promise.all((candidates.length > 0 ? candidates : [null]).map((c) => verifyPassword(pw, c?.passwordHash ?? null)));
    const matches = candidates.filter((c, i) => checks[i] && c.user.active);
    const locked = record !== undefined && record.lockedUntil > now;
    if (matches.length === 1 && !locked) {
      this.signInFailures.delete(throttleKey);
      return matches[0]!.user;
    }
    const reason = locked ? 'locked' : candidates.length === 0 ? 'unknown_email' : matches.length > 1 ? 'several_accounts' : 'invalid_credentials';
    if (!locked && key !== '') this.recordSignInFailure(throttleKey, now, maxFailures, lockoutMs);
    const accounts = [...new Set(candidates.map((c) => c.user.accountId))];
    await recordSignInFailure(this.ctx, {
      accountIds: accounts,
      actorId: key.slice(0, 254),
      method: 'password',
      reason,
      ...meta,
    });
    if (reason === 'several_accounts') {
      throw new UnauthenticatedError('This email and password belong to users of several accounts: give the account id', 'invalid_credentials');
    }
    throw new UnauthenticatedError('Invalid email or password', 'invalid_credentials');
  }

  private recordSignInFailure(key: string, now: number, maxFailures: number, lockoutMs: number): void {
    const record = this.signInFailures.get(key) ?? { count: 0, since: now, lockedUntil: 0 };
    record.count += 1;
    if (record.count >= maxFailures) {
      record.lockedUntil = now + lockoutMs;
      record.count = 0;
      record.since = now;
    }
    this.signInFailures.delete(key); // re-insert: the Map's order is then least recently failed first
    this.signInFailures.set(key, record);
    if (this.signInFailures.size > MAX_TRACKED_EMAILS) {
      const oldest = this.signInFailures.keys().next().value;
      if (oldest !== undefined) this.signInFailures.delete(oldest);
    }
  }
}
