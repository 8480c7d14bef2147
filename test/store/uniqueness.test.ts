/**
 * Uniqueness is enforced by the database itself (docs/compat/harness-ng.md, "Uniqueness"): these
 * tests write through the store modules and raw Kysely, bypassing every service-level check.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { newTokenId, newUserId, newUuid } from '../../src/domain/ids.js';
import type { ApiKey, ServiceAccount, Token, User } from '../../src/domain/model.js';
import { makeScope, type Scope } from '../../src/domain/scope.js';
import { digestHex } from '../../src/domain/tokens.js';
import { isUniqueViolation } from '../../src/store/database.js';
import { insertAccount } from '../../src/store/accounts.js';
import { insertApiKey } from '../../src/store/apiKeys.js';
import { insertServiceAccount } from '../../src/store/serviceAccounts.js';
import { insertToken } from '../../src/store/tokens.js';
import { insertUser } from '../../src/store/users.js';
import { describeEachDb, openTestStore, type TestStore } from '../helpers/databases.js';

const ACC = 'acc1';
const T = Date.UTC(2026, 0, 1);

function user(email: string): User {
  return { id: newUserId(), accountId: ACC, email, name: 'u', hasPassword: false, active: true, isOperator: false, createdAt: T, updatedAt: T };
}

function serviceAccount(identifier: string, scope: Scope = makeScope(ACC)): ServiceAccount {
  return { id: newUuid(), scope, identifier, name: identifier, email: `${identifier}@sa.test`, description: '', tags: {}, active: true, createdAt: T, updatedAt: T };
}

function userKey(owner: User, identifier: string, scope: Scope = makeScope(ACC)): ApiKey {
  return {
    id: newUuid(),
    scope,
    identifier,
    name: identifier,
    description: '',
    tags: {},
    type: 'USER',
    parentIdentifier: owner.id,
    userId: owner.id,
    serviceAccountId: null,
    defaultTimeToExpireToken: 1000,
    active: true,
    flavor: 'harness_ng',
    createdAt: T,
    updatedAt: T,
  };
}

function saKey(sa: ServiceAccount, identifier: string): ApiKey {
  return { ...userKey(user('x@x.test'), identifier, sa.scope), type: 'SERVICE_ACCOUNT', parentIdentifier: sa.identifier, userId: null, serviceAccountId: sa.id };
}

function token(key: ApiKey, identifier: string): Token {
  return {
    id: newTokenId(),
    apiKeyId: key.id,
    scope: key.scope,
    identifier,
    name: identifier,
    description: '',
    tags: {},
    apiKeyType: key.type,
    parentIdentifier: key.parentIdentifier,
    apiKeyIdentifier: key.identifier,
    format: 'harness_ng',
    validFrom: T,
    validTo: T + 1000,
    scheduledExpireTime: null,
    rotatedAt: null,
    lastUsedAt: null,
    lastUsedIp: null,
    lastUsedUserAgent: null,
    createdAt: T,
    updatedAt: T,
  };
}

/** The write must fail with the database's own unique-constraint error. */
async function expectUniqueViolation(write: Promise<unknown>): Promise<void> {
  const err = await write.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the database accepted a duplicate').not.toBeNull();
  expect(isUniqueViolation(err)).toBe(true);
}

describeEachDb('database uniqueness', (kind) => {
  let ts: TestStore;
  let owner: User;

  beforeEach(async () => {
    ts = await openTestStore(kind);
    await insertAccount(ts.store.db, { id: ACC, name: 'A', createdAt: T, updatedAt: T });
    owner = user('owner@acme.test');
    await insertUser(ts.store.db, owner, null);
  });
  afterEach(async () => ts.cleanup());

  it('rejects an API key whose identifier differs only in case, for the same parent, type and scope', async () => {
    const db = ts.store.db;
    await insertApiKey(db, userKey(owner, 'CiKey'));
    await expectUniqueViolation(insertApiKey(db, userKey(owner, 'cikey')));
    await expectUniqueViolation(insertApiKey(db, userKey(owner, 'CIKEY')));
    expect(await db.selectFrom('api_keys').select('identifier').execute()).toEqual([{ identifier: 'CiKey' }]);
  });

  it('allows the same key identifier under another parent, another scope or another type', async () => {
    const db = ts.store.db;
    const other = user('other@acme.test');
    await insertUser(db, other, null);
    const sa = serviceAccount('ci');
    await insertServiceAccount(db, sa);

    await insertApiKey(db, userKey(owner, 'shared'));
    await insertApiKey(db, userKey(other, 'SHARED'));
    await insertApiKey(db, userKey(owner, 'Shared', makeScope(ACC, 'org1')));
    await insertApiKey(db, userKey(owner, 'shared', makeScope(ACC, 'org1', 'proj1')));
    // Same parent identifier string, other type.
    await insertApiKey(db, { ...saKey(sa, 'shared'), parentIdentifier: owner.id });
    expect(await db.selectFrom('api_keys').select('id').execute()).toHaveLength(5);
  });

  it('rejects a token whose identifier differs only in case under the same key', async () => {
    const db = ts.store.db;
    const key = userKey(owner, 'k1');
    await insertApiKey(db, key);
    await insertToken(db, token(key, 'Deploy'), digestHex('secret-1'));
    await expectUniqueViolation(insertToken(db, token(key, 'deploy'), digestHex('secret-2')));
    await expectUniqueViolation(insertToken(db, token(key, 'DEPLOY'), digestHex('secret-3')));

    // The same identifier under another key is fine.
    const key2 = userKey(owner, 'k2');
    await insertApiKey(db, key2);
    await insertToken(db, token(key2, 'deploy'), digestHex('secret-4'));
    expect(await db.selectFrom('tokens').select('identifier').orderBy('identifier').execute()).toEqual([{ identifier: 'Deploy' }, { identifier: 'deploy' }]);
  });

  it('rejects two tokens with the same secret digest', async () => {
    const db = ts.store.db;
    const key = userKey(owner, 'k1');
    await insertApiKey(db, key);
    await insertToken(db, token(key, 'a'), digestHex('same'));
    await expectUniqueViolation(insertToken(db, token(key, 'b'), digestHex('same')));
  });

  it('treats service-account identifiers case-sensitively: sa1 and SA1 are two accounts, sa1 twice is not', async () => {
    const db = ts.store.db;
    await insertServiceAccount(db, serviceAccount('sa1'));
    await insertServiceAccount(db, serviceAccount('SA1'));
    await expectUniqueViolation(insertServiceAccount(db, serviceAccount('sa1')));
    // The same identifier in another scope is another service account.
    await insertServiceAccount(db, serviceAccount('sa1', makeScope(ACC, 'org1')));
    await insertServiceAccount(db, serviceAccount('sa1', makeScope(ACC, 'org1', 'proj1')));
    expect(await db.selectFrom('service_accounts').select('identifier').orderBy('identifier').execute()).toHaveLength(4);
  });

  it('rejects a user whose email differs only in case', async () => {
    const db = ts.store.db;
    await expectUniqueViolation(insertUser(db, user('Owner@ACME.test'), null));
    // Raw, with the lower-cased column written by hand: the unique index on email_lower holds.
    await expectUniqueViolation(
      db
        .insertInto('users')
        .values({ id: newUserId(), account_id: ACC, email: 'OWNER@acme.test', email_lower: 'owner@acme.test', name: 'x', password_hash: null, active: 1, is_operator: 0, created_at: T, updated_at: T })
        .execute(),
    );
    await insertUser(db, user('someone.else@acme.test'), null);
    expect(await db.selectFrom('users').select('email').orderBy('email').execute()).toEqual([{ email: 'owner@acme.test' }, { email: 'someone.else@acme.test' }]);
  });

  it('rejects an API key with both or neither parent', async () => {
    const db = ts.store.db;
    const sa = serviceAccount('sa1');
    await insertServiceAccount(db, sa);
    await expect(insertApiKey(db, { ...userKey(owner, 'both'), serviceAccountId: sa.id })).rejects.toThrow();
    await expect(insertApiKey(db, { ...userKey(owner, 'neither'), userId: null })).rejects.toThrow();
    expect(await db.selectFrom('api_keys').select('id').execute()).toEqual([]);
  });
});
