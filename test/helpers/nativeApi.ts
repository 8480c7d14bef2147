/**
 * Small helpers for the native API, server and CLI tests: give a user a token, grant a role, and
 * check the native error shape. Setup goes through the services; what is under test goes over HTTP.
 */
import { expect } from 'vitest';
import { makeScope } from '../../src/domain/scope.js';
import { SYSTEM_CALLER } from '../../src/services/context.js';
import type { HttpResponse, TestKeyward } from './keyward.js';

let seq = 0;

/** Issues a personal token for the user (as the system, so the caller needs no rights). */
export async function issueUserToken(
  k: TestKeyward,
  accountId: string,
  userId: string,
  opts: { validTo?: number } = {},
): Promise<{ token: string; tokenId: string }> {
  seq += 1;
  const issued = await k.keyward.services.tokens.create(
    SYSTEM_CALLER,
    { scope: makeScope(accountId), type: 'USER', parentIdentifier: userId },
    { identifier: `t${seq}`, name: `t${seq}`, apiKeyIdentifier: 'personal', ...(opts.validTo !== undefined ? { validTo: opts.validTo } : {}) },
    { autoCreateKey: true },
  );
  return { token: issued.secret, tokenId: issued.token.id };
}

/** Gives the principal a built-in role at account scope. */
export async function grantAccountRole(k: TestKeyward, accountId: string, userId: string, role: string): Promise<void> {
  await k.keyward.services.access.createAssignment(SYSTEM_CALLER, makeScope(accountId), {
    roleIdentifier: role,
    principalType: 'USER',
    principalId: userId,
  });
}

/** A user in the account with a token of their own and no role at all. */
export async function userWithToken(
  k: TestKeyward,
  accountId: string,
  email: string,
  opts: { password?: string; role?: string } = {},
): Promise<{ id: string; email: string; token: string }> {
  const res = await k.http.post(`/v1/accounts/${accountId}/users`, { email, ...(opts.password ? { password: opts.password } : {}) });
  expect(res.status, res.text).toBe(201);
  const id = res.body.id as string;
  if (opts.role) await grantAccountRole(k, accountId, id, opts.role);
  const { token } = await issueUserToken(k, accountId, id);
  return { id, email, token };
}

/**
 * Asserts the native error shape `{"error":{"code","message","fields"?},"requestId"}` with the
 * given status, and (when given) that the message names the field.
 */
export function expectNativeError(res: HttpResponse, status: number, opts: { code?: string; field?: string } = {}): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type') ?? '').toContain('application/json');
  const body = res.body as { error: { code: unknown; message: unknown; fields?: unknown }; requestId: unknown };
  expect(typeof body.error?.code).toBe('string');
  expect(typeof body.error?.message).toBe('string');
  expect((body.error.message as string).length).toBeGreaterThan(0);
  expect(typeof body.requestId).toBe('string');
  expect(body.requestId).toBe(res.headers.get('x-request-id'));
  expect(Object.keys(body).sort()).toEqual(['error', 'requestId']);
  if (body.error.fields !== undefined) {
    expect(Array.isArray(body.error.fields)).toBe(true);
    for (const f of body.error.fields as Array<Record<string, unknown>>) {
      expect(typeof f.field).toBe('string');
      expect(typeof f.message).toBe('string');
    }
  }
  if (opts.code) expect(body.error.code).toBe(opts.code);
  if (opts.field) expect(body.error.message).toContain(opts.field);
}
