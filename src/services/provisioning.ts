/**
 * Provisioning an account: the account, its first admin user (with Account Admin), and a personal
 * API key with one token for that admin, all in one transaction. The bootstrap of an empty
 * database is the same thing, done once, by the system.
 */
import { ConflictError, InvalidArgumentError, PermissionDeniedError } from '../domain/errors.js';
import { ACCOUNT_ID_PATTERN, newAccountId, newUserId, newUuid } from '../domain/ids.js';
import { UNUSED_TOKEN, type Account, type ApiKey, type Token, type User } from '../domain/model.js';
import { hashPassword, checkPassword } from '../domain/passwords.js';
import { DEFAULT_RESOURCE_GROUP, RESOURCE } from '../domain/permissions.js';
import { makeScope } from '../domain/scope.js';
import { digestHex, generateNgToken, parseToken } from '../domain/tokens.js';
import { checkEmail, validate } from '../domain/validation.js';
import { isUniqueViolation, type Tx } from '../store/database.js';
import { insertAccount, insertOrganization } from '../store/accounts.js';
import { insertRoleAssignment } from '../store/access.js';
import { insertApiKey } from '../store/apiKeys.js';
import { getSetting, insertSetting } from '../store/settings.js';
import { insertToken } from '../store/tokens.js';
import { emailTaken, insertUser } from '../store/users.js';
import { mutate } from './audit.js';
import { DEFAULT_TOKEN_TTL_MS, SYSTEM_CALLER, type Caller, type ServiceContext } from './context.js';

export interface ProvisionInput {
  accountId?: string | null;
  accountName: string;
  adminEmail: string;
  adminName?: string | null;
  adminPassword?: string | null;
  adminIsOperator?: boolean;
  /** A well-formed `pat.<accountId>.<24 hex>.<20 alphanumerics>` token to use instead of a fresh one. */
  token?: string | null;
  /** Lifetime of the admin's first token; default: the standard 30 days. */
  tokenTtlMs?: number | null;
}

export interface Provisioned {
  account: Account;
  admin: User;
  apiKey: ApiKey;
  tokenRecord: Token;
  /** The plain token, shown once. */
  token: string;
}

const BOOTSTRAP_MARKER = 'bootstrap.completed';

export async function provisionAccount(ctx: ServiceContext, caller: Caller, input: ProvisionInput, extra?: (tx: Tx) => Promise<void>): Promise<Provisioned> {
  const isOperator = caller.actor.type === 'SYSTEM' || (caller.actor.type === 'USER' && caller.actor.isOperator);
  if (!isOperator) throw new PermissionDeniedError('Only a system operator can create accounts');

  let given: { tokenId: string; secret: string; accountId: string } | null = null;
  if (input.token) {
    const p = parseToken(input.token);
    if (p.format !== 'harness_ng' || p.prefix !== 'pat' || p.accountId === null) {
      throw InvalidArgumentError.field('token', 'must be a well-formed personal access token: pat.<accountId>.<24 hex>.<20 alphanumerics>');
    }
    if (input.accountId && input.accountId !== p.accountId) throw InvalidArgumentError.field('token', 'names a different account than accountId');
    given = { tokenId: p.tokenId, secret: p.secret, accountId: p.accountId };
  }
  const accountId = given?.accountId ?? input.accountId ?? newAccountId();
  validate([
    ['accountId', ACCOUNT_ID_PATTERN.test(accountId) ? null : 'can only contain alphanumeric, underscore and hyphen characters (1 to 64)'],
    ['accountName', typeof input.accountName === 'string' && input.accountName.trim() !== '' && input.accountName.length <= 128 ? null : 'must be 1 to 128 characters'],
    ['adminEmail', checkEmail(input.adminEmail)],
    ['adminPassword', input.adminPassword ? checkPassword(input.adminPassword) : null],
  ]);
  const passwordHash = input.adminPassword ? await hashPassword(input.adminPassword) : null;
  const now = ctx.clock.now();
  const scope = makeScope(accountId);
  const account: Account = { id: accountId, name: input.accountName.trim(), createdAt: now, updatedAt: now };
  const email = input.adminEmail.trim();
  const admin: User = {
    id: newUserId(),
    accountId,
    email,
    name: input.adminName?.trim() || 'Admin',
    hasPassword: passwordHash !== null,
    active: true,
    isOperator: input.adminIsOperator ?? false,
    createdAt: now,
    updatedAt: now,
  };
  const apiKey: ApiKey = {
    id: newUuid(),
    scope,
    identifier: 'admin',
    name: 'admin',
    description: 'Created with the account',
    tags: {},
    type: 'USER',
    parentIdentifier: admin.id,
    userId: admin.id,
    serviceAccountId: null,
    defaultTimeToExpireToken: input.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS,
    active: true,
    flavor: 'harness_ng',
    createdAt: now,
    updatedAt: now,
  };
  const fresh = given ? null : generateNgToken('USER', accountId);
  const minted = given ?? fresh!;
  const plain = fresh ? fresh.token : input.token!.trim();
  const tokenRecord: Token = {
    id: minted.tokenId,
    apiKeyId: apiKey.id,
    scope,
    identifier: 'admin',
    name: 'admin',
    description: '',
    tags: {},
    apiKeyType: 'USER',
    parentIdentifier: admin.id,
    apiKeyIdentifier: apiKey.identifier,
    format: 'harness_ng',
    validFrom: now,
    validTo: now + apiKey.defaultTimeToExpireToken,
    ...UNUSED_TOKEN,
    createdAt: now,
    updatedAt: now,
  };

  return mutate(ctx, caller, { action: 'account.create', resourceType: RESOURCE.account, resourceId: accountId, scope }, async (tx) => {
    if (extra) await extra(tx);
    try {
      await insertAccount(tx, account);
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`Account [${accountId}] already exists`, 'account', 'id');
      throw e;
    }
    if (await emailTaken(tx, accountId, email)) throw new ConflictError(`A user with email ${email} already exists`, 'user', 'email');
    await insertUser(tx, admin, passwordHash);
    await insertRoleAssignment(tx, {
      id: newUuid(),
      scope,
      identifier: `admin_${admin.id.replace(/[^A-Za-z0-9_]/g, '_')}`,
      roleIdentifier: '_account_admin',
      resourceGroupIdentifier: DEFAULT_RESOURCE_GROUP.account,
      principalType: 'USER',
      principalId: admin.id,
      disabled: false,
      managed: false,
      principalScopeLevel: null,
      roleScopeLevel: null,
      createdAt: now,
      updatedAt: now,
    });
    // Harness accounts come with an organization named `default`; scripts and Terraform examples use it.
    await insertOrganization(tx, { id: newUuid(), accountId, identifier: 'default', name: 'default', description: 'Default organization', tags: {}, createdAt: now, updatedAt: now });
    await insertApiKey(tx, apiKey);
    await insertToken(tx, tokenRecord, digestHex(minted.secret));
    return {
      result: { account, admin, apiKey, tokenRecord, token: plain },
      details: { adminUserId: admin.id, adminEmail: email, tokenId: tokenRecord.id },
    };
  });
}

/**
 * On the first start against an empty database: the default account, its admin and the admin's
 * token. Returns null when the database was bootstrapped before (by this node or another).
 */
export async function bootstrap(
  ctx: ServiceContext,
  input: { token?: string | null; adminEmail: string; adminPassword?: string | null; accountName?: string },
): Promise<Provisioned | null> {
  if ((await getSetting(ctx.store.db, BOOTSTRAP_MARKER)) !== null) return null;
  try {
    return await provisionAccount(
      ctx,
      SYSTEM_CALLER,
      {
        accountName: input.accountName ?? 'Default Account',
        adminEmail: input.adminEmail,
        adminName: 'Admin',
        adminPassword: input.adminPassword ?? null,
        adminIsOperator: true,
        token: input.token ?? null,
        tokenTtlMs: input.token ? 365 * 24 * 60 * 60 * 1000 : null,
      },
      // The marker goes in first: a second node bootstrapping at the same moment fails on it and rolls back.
      (tx) => insertSetting(tx, BOOTSTRAP_MARKER, String(ctx.clock.now()), ctx.clock.now()),
    );
  } catch (e) {
    if (isUniqueViolation(e) && (await getSetting(ctx.store.db, BOOTSTRAP_MARKER)) !== null) return null;
    throw e;
  }
}
