/**
 * Shared machinery for the Harness CG conformance tests (docs/compat/harness-cg.md): a Keyward
 * with a master key, the seed account, GraphQL calls as raw bytes, and role grants to user groups.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { makeScope } from '../../../src/domain/scope.js';
import { SYSTEM_CALLER } from '../../../src/services/context.js';
import type { DbKind } from '../../helpers/databases.js';
import { HttpClient, startKeyward, type HttpResponse, type TestKeyward } from '../../helpers/keyward.js';

/** The account of the seed (seeds/001_35044ce0e27048d5.txt). */
export const SEED_ACCOUNT = 'rIeFDjoySXqrDQcIZ9ltDA';

export async function startCg(kind: DbKind): Promise<TestKeyward> {
  return startKeyward(kind, { config: { masterKey: randomBytes(32).toString('base64') } });
}

export interface Account {
  acc: string;
  adminId: string;
  token: string;
  http: HttpClient;
}

/** A second account, created by the bootstrap operator, with its own admin token. */
export async function newAccount(k: TestKeyward, id?: string): Promise<Account> {
  const res = await k.http.post('/v1/accounts', { ...(id ? { id } : {}), name: `acct ${id ?? randomBytes(3).toString('hex')}`, admin: { email: `admin-${randomBytes(4).toString('hex')}@example.com` } });
  expect(res.status, res.text).toBe(201);
  return { acc: res.body.account.id, adminId: res.body.admin.id, token: res.body.token, http: k.http.withToken(res.body.token) };
}

/** POSTs a GraphQL request the way the Go SDK does (JSON, X-Api-Key, ?accountId=). */
export function gql(http: HttpClient, acc: string, query: string, variables?: unknown, opts: { path?: string; token?: string | null } = {}): Promise<HttpResponse> {
  return http.request('POST', opts.path ?? '/api/graphql', {
    query: { accountId: acc },
    body: { query, ...(variables !== undefined ? { variables } : {}) },
    ...(opts.token !== undefined ? { token: opts.token } : {}),
  });
}

/** Gives a user group a role at account scope (the grant CG keys inherit). */
export async function grantGroupRole(k: TestKeyward, acc: string, groupId: string, role: string): Promise<void> {
  await k.keyward.services.access.createAssignment(SYSTEM_CALLER, makeScope(acc), { roleIdentifier: role, principalType: 'USER_GROUP', principalId: groupId });
}

/** A custom role at account scope holding exactly these permissions. */
export async function customRole(k: TestKeyward, acc: string, identifier: string, permissions: string[]): Promise<void> {
  await k.keyward.services.access.createRole(SYSTEM_CALLER, makeScope(acc), { identifier, name: identifier, permissions });
}

export const CREATE_GROUP = `mutation($input: CreateUserGroupInput!) { createUserGroup(input: $input) { clientMutationId userGroup { id name description } } }`;

/** Creates an account-level group through CG GraphQL; returns its id. */
export async function cgGroup(http: HttpClient, acc: string, name: string): Promise<string> {
  const res = await gql(http, acc, CREATE_GROUP, { input: { name } });
  expect(res.status, res.text).toBe(200);
  expect(res.body.errors, res.text).toBeUndefined();
  return res.body.data.createUserGroup.userGroup.id as string;
}

/** The GraphQL error messages of a response. */
export const messages = (res: HttpResponse): string[] => ((res.body?.errors ?? []) as Array<{ message: string }>).map((e) => e.message);
