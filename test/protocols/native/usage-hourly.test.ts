/**
 * Verifications counted per token, hour and outcome: in memory on the verification path (nothing
 * written per verification), shown at once by GET /v1/accounts/{id}/usage, written with the batch
 * and never counted twice; hours apart stay apart; one token or the whole key; 7 or 30 days; only
 * for whoever may list the tokens.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { issueUserToken } from '../../helpers/nativeApi.js';
import { SYSTEM_CALLER } from '../../../src/services/context.js';

const HOUR = 3_600_000;

describeEachDb('verifications per hour and outcome', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  const usage = async (query: Record<string, string | number> = {}) => {
    const r = await k.http.get(`/v1/accounts/${k.admin.accountId}/usage`, {
      query: { apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: 'personal', ...query },
    });
    expect(r.status, r.text).toBe(200);
    return r.body as { from: number; to: number; hours: Array<Record<string, number>>; totals: Record<string, number> };
  };
  // The admin's own token is verified by every call the test makes: count only these tokens' rows.
  let mine: string[] = [];
  const rows = async () =>
    Number((await k.keyward.services.ctx.store.db.selectFrom('token_usage_hourly').where('token_id', 'in', mine).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  it('counts by hour and outcome, shows counts at once, writes them only with the batch, and never twice', async () => {
    const soon = k.clock.now() + 2 * HOUR;
    const a = await issueUserToken(k, k.admin.accountId, k.admin.userId, { validTo: soon });
    const b = await issueUserToken(k, k.admin.accountId, k.admin.userId);
    mine = [a.tokenId, b.tokenId];
    const hour1 = k.clock.now() - (k.clock.now() % HOUR);
    for (let i = 0; i < 3; i++) expect((await k.anon.post('/v1/verify', { token: a.token })).body.valid).toBe(true);
    expect((await k.anon.post('/v1/verify', { token: b.token })).body.valid).toBe(true);

    // Counted in memory: shown at once, nothing written.
    expect(await rows()).toBe(0);
    let u = await usage();
    expect(u.hours).toEqual([expect.objectContaining({ hour: hour1, valid: 4, expired: 0 })]);
    expect((await usage({ tokenId: a.tokenId })).totals.valid).toBe(3);
    expect((await usage({ tokenId: b.tokenId })).totals.valid).toBe(1);

    await k.keyward.services.usage.flush();
    expect(await rows()).toBe(2);
    u = await usage();
    expect(u.totals.valid).toBe(4);

    // Past a's expiry, in a later hour: its refusals count as expired there; the stored hour adds up.
    k.clock.advance(3 * HOUR);
    const hour4 = k.clock.now() - (k.clock.now() % HOUR);
    expect((await k.anon.post('/v1/verify', { token: a.token })).body.reason).toBe('expired');
    expect((await k.anon.post('/v1/verify', { token: b.token })).body.valid).toBe(true);
    u = await usage();
    expect(u.hours).toEqual([expect.objectContaining({ hour: hour1, valid: 4 }), expect.objectContaining({ hour: hour4, valid: 1, expired: 1 })]);
    await k.keyward.services.usage.flush();
    expect((await usage()).totals).toMatchObject({ valid: 5, expired: 1 });
    // A second batch for an hour already stored adds to it.
    expect((await k.anon.post('/v1/verify', { token: b.token })).body.valid).toBe(true);
    await k.keyward.services.usage.flush();
    expect((await usage()).hours.at(-1)).toMatchObject({ hour: hour4, valid: 2, expired: 1 });

    // 7 days back the first hour drops out; 30 days keep it.
    k.clock.advance(8 * 24 * HOUR);
    expect((await usage()).totals.valid).toBe(0);
    expect((await usage({ days: 30 })).totals).toMatchObject({ valid: 6, expired: 1 });
  });

  it('finds one token by the id in its prefix (what the console searches by), in any of the owner\'s keys', async () => {
    const t = await issueUserToken(k, k.admin.accountId, k.admin.userId);
    const list = (q: Record<string, string>) => k.http.get(`/v1/accounts/${k.admin.accountId}/tokens`, { query: { apiKeyType: 'USER', parentIdentifier: k.admin.userId, ...q } });
    const r = await list({ tokenId: t.tokenId });
    expect(r.status, r.text).toBe(200);
    expect(r.body.items.map((x: { id: string }) => x.id)).toEqual([t.tokenId]);
    expect(r.body.total).toBe(1);
    expect((await list({ tokenId: 'f'.repeat(24) })).body.items).toEqual([]);
    // Never the secret: only 24 hex digits are taken.
    expect((await list({ tokenId: t.token })).status).toBe(400);
  });

  it('answers only those who may list the tokens, and refuses a bad period', async () => {
    const other = await k.keyward.services.users.create(SYSTEM_CALLER, k.admin.accountId, { email: 'nosy@example.com', password: 'nosy password 1' });
    expect((await k.anon.get(`/v1/accounts/${k.admin.accountId}/usage`, { query: { apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: 'personal' } })).status).toBe(401);
    expect((await k.http.get(`/v1/accounts/${k.admin.accountId}/usage`, { query: { apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: 'personal', days: 9 } })).status).toBe(400);
    // Someone else's personal tokens need core_user_manage, which a user with no role lacks.
    const t = await issueUserToken(k, k.admin.accountId, other.id);
    const r = await k.http.get(`/v1/accounts/${k.admin.accountId}/usage`, { query: { apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: 'personal' }, token: t.token });
    expect(r.status).toBe(403);
  });
});
