/** GET /v1/accounts/:id/audit: every mutation leaves an event; filtered, newest first, keyset-paged. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type HttpResponse, type TestKeyward } from '../../helpers/keyward.js';
import { expectNativeError, userWithToken } from '../../helpers/nativeApi.js';

interface Event {
  id: string;
  at: number;
  actorType: string;
  actorId: string;
  action: string;
  resourceType: string;
  resourceId: string;
  outcome: string;
  details: Record<string, unknown>;
  requestId: string | null;
}

describeEachDb('native audit log', (kind) => {
  let k: TestKeyward;
  const audit = () => `/v1/accounts/${k.admin.accountId}/audit`;
  const users = () => `/v1/accounts/${k.admin.accountId}/users`;
  let t0: number;
  let times: { create: number; rename: number; deactivate: number };
  let lee: { id: string; token: string };
  let created: { id: string; requestId: string };

  beforeAll(async () => {
    k = await startKeyward(kind);
    t0 = k.clock.now();
    // A story with distinct times: create, rename, deactivate, and a second admin who creates a user.
    k.clock.advance(1000);
    const c = await k.http.post(users(), { email: 'audited@example.com' }, { headers: { 'x-request-id': 'audit-create-1' } });
    expect(c.status).toBe(201);
    created = { id: c.body.id, requestId: c.headers.get('x-request-id')! };
    times = { create: k.clock.now(), rename: 0, deactivate: 0 };
    k.clock.advance(1000);
    expect((await k.http.patch(`${users()}/${created.id}`, { name: 'Audited' })).status).toBe(200);
    times.rename = k.clock.now();
    k.clock.advance(1000);
    expect((await k.http.patch(`${users()}/${created.id}`, { active: false })).status).toBe(200);
    times.deactivate = k.clock.now();
    k.clock.advance(1000);
    lee = await userWithToken(k, k.admin.accountId, 'lee@example.com', { role: '_account_admin' });
    k.clock.advance(1000);
    expect((await k.anon.withToken(lee.token).post(users(), { email: 'made-by-lee@example.com' })).status).toBe(201);
    k.clock.advance(1000);
    // A refused mutation is recorded as a failure.
    expect((await k.http.post(users(), { email: 'AUDITED@example.com' })).status).toBe(409);
  });
  afterAll(async () => k?.close());

  async function all(query: Record<string, string | number> = {}): Promise<Event[]> {
    const res = await k.http.get(audit(), { query: { limit: 500, ...query } });
    expect(res.status, res.text).toBe(200);
    return res.body.items as Event[];
  }

  it('lists every event newest first, with who, what, on what, and the request id', async () => {
    const items = await all();
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [items[i - 1]!, items[i]!];
      expect(a.at > b.at || (a.at === b.at && a.id > b.id), `${a.action}@${a.at} before ${b.action}@${b.at}`).toBe(true);
    }
    expect(items[items.length - 1]).toMatchObject({ action: 'account.create', actorType: 'SYSTEM', at: t0 });
    const create = items.find((e) => e.action === 'user.create' && e.resourceId === created.id);
    expect(create).toMatchObject({
      actorType: 'USER',
      actorId: k.admin.userId,
      resourceType: 'USER',
      outcome: 'success',
      at: times.create,
      requestId: 'audit-create-1',
      details: { email: 'audited@example.com' },
    });
    expect(created.requestId).toBe('audit-create-1');
    expect(items[0]).toMatchObject({ action: 'user.create', outcome: 'failure', actorId: k.admin.userId });
    expect(items[0]!.details).toMatchObject({ error: 'conflict' });
  });

  it('filters by actor', async () => {
    const byLee = await all({ actor: lee.id });
    expect(byLee.length).toBeGreaterThan(0);
    expect(byLee.every((e) => e.actorId === lee.id)).toBe(true);
    expect(byLee.map((e) => e.action)).toEqual(['user.create']);
    const byAdmin = await all({ actor: k.admin.userId });
    expect(byAdmin.every((e) => e.actorId === k.admin.userId)).toBe(true);
    expect(byAdmin.length).toBeGreaterThanOrEqual(5);
    expect(await all({ actor: 'nobody' })).toEqual([]);
  });

  it('filters by action and by resource type', async () => {
    const deactivations = await all({ action: 'user.deactivate' });
    expect(deactivations).toHaveLength(1);
    expect(deactivations[0]).toMatchObject({ resourceId: created.id, at: times.deactivate });
    const renames = await all({ action: 'user.update' });
    expect(renames.map((e) => e.resourceId)).toEqual([created.id]);

    const onUsers = await all({ resourceType: 'USER' });
    expect(onUsers.length).toBeGreaterThanOrEqual(5);
    expect(onUsers.every((e) => e.resourceType === 'USER')).toBe(true);
    const onAccounts = await all({ resourceType: 'ACCOUNT' });
    expect(onAccounts.map((e) => e.action)).toEqual(['account.create']);
  });

  it('filters by time, from and to inclusive', async () => {
    const window = await all({ from: times.rename, to: times.deactivate });
    expect(window.map((e) => e.action)).toEqual(['user.deactivate', 'user.update']);
    expect(window.every((e) => e.at >= times.rename && e.at <= times.deactivate)).toBe(true);
    const exact = await all({ from: times.create, to: times.create });
    expect(exact.map((e) => e.action)).toEqual(['user.create']);
    const since = await all({ from: times.deactivate + 1 });
    expect(since.length).toBeGreaterThan(0);
    expect(since.every((e) => e.at > times.deactivate)).toBe(true);
  });

  it('pages with cursor and nextCursor, without gaps or repeats', async () => {
    const full = await all();
    expect(full.length).toBeGreaterThan(4);
    const seen: Event[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: HttpResponse = await k.http.get(audit(), { query: { limit: 2, ...(cursor ? { cursor } : {}) } });
      expect(res.status, res.text).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
      expect(pages).toBeLessThan(50);
    } while (cursor);
    expect(seen.map((e) => e.id)).toEqual(full.map((e) => e.id));
    expect(pages).toBe(Math.ceil(full.length / 2));
    // The last page says there is no more.
    const last = await k.http.get(audit(), { query: { limit: full.length } });
    expect(last.body.nextCursor).toBeNull();
    const short = await k.http.get(audit(), { query: { limit: full.length - 1 } });
    expect(typeof short.body.nextCursor).toBe('string');
  });

  it('a cursor it did not return is a 400 naming cursor', async () => {
    expectNativeError(await k.http.get(audit(), { query: { cursor: 'not-a-cursor' } }), 400, { field: 'cursor' });
  });

  it('needs core_audit_view: a user without roles gets 403, a viewer gets the log, no token gets 401', async () => {
    const plain = await userWithToken(k, k.admin.accountId, 'no-roles@example.com');
    expectNativeError(await k.anon.withToken(plain.token).get(audit()), 403, { code: 'PERMISSION_DENIED' });
    const viewer = await userWithToken(k, k.admin.accountId, 'viewer@example.com', { role: '_account_viewer' });
    const res = await k.anon.withToken(viewer.token).get(audit());
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    expectNativeError(await k.anon.get(audit()), 401);
  });

  it('another account\'s admin cannot read this account\'s log', async () => {
    const other = await k.http.post('/v1/accounts', { name: 'Elsewhere', admin: { email: 'root@elsewhere.example' } });
    expect(other.status).toBe(201);
    const res = await k.anon.withToken(other.body.token).get(audit());
    expectNativeError(res, 403);
    expect(res.text).not.toContain('audited@example.com');
    // ... and reads its own, which holds only its own creation.
    const own = await k.anon.withToken(other.body.token).get(`/v1/accounts/${other.body.account.id}/audit`);
    expect(own.status).toBe(200);
    expect(own.body.items.map((e: Event) => e.action)).toEqual(['account.create']);
  });
});
