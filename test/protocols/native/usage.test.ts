/**
 * Last use of a token (time, source address, user agent) is kept in memory on the verification path
 * and written in batches: native token reads show it at once, the database gets it only when a
 * batch is written (on the flush interval, and at shutdown), and a newer use wins over an older one.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { issueUserToken } from '../../helpers/nativeApi.js';

describeEachDb('last use of a token, batched', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    // The helper sets KEYWARD_USAGE_FLUSH_MS to a minute: nothing is written unless the test asks.
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  const stored = async (tokenId: string) =>
    k.keyward.services.ctx.store.db
      .selectFrom('tokens')
      .select(['last_used_at', 'last_used_ip', 'last_used_user_agent'])
      .where('id', '=', tokenId)
      .executeTakeFirstOrThrow();

  const listed = async (tokenId: string) => {
    const r = await k.http.get(`/v1/accounts/${k.admin.accountId}/tokens`, { query: { apiKeyType: 'USER', parentIdentifier: k.admin.userId, pageSize: 100 } });
    expect(r.status, r.text).toBe(200);
    return (r.body.items as Array<{ id: string; lastUsedAt: number | null; lastUsedIp: string | null; lastUsedUserAgent: string | null }>).find((t) => t.id === tokenId)!;
  };

  it('shows the last use at once, writes it only with the batch, and keeps the newest', async () => {
    const { token, tokenId } = await issueUserToken(k, k.admin.accountId, k.admin.userId);
    expect(await listed(tokenId)).toMatchObject({ lastUsedAt: null, lastUsedIp: null, lastUsedUserAgent: null });

    k.clock.advance(1000);
    const firstAt = k.clock.now();
    const r = await k.anon.post('/v1/verify', { token }, { headers: { 'user-agent': 'probe/1.0' } });
    expect(r.body.valid).toBe(true);

    // The read merges the buffered use; the verification wrote nothing.
    expect(await listed(tokenId)).toMatchObject({ lastUsedAt: firstAt, lastUsedIp: '127.0.0.1', lastUsedUserAgent: 'probe/1.0' });
    expect(await stored(tokenId)).toEqual({ last_used_at: null, last_used_ip: null, last_used_user_agent: null });

    // A batch writes it.
    await k.keyward.services.usage.flush();
    expect(k.keyward.services.usage.peek(tokenId)).toBeUndefined();
    const row = await stored(tokenId);
    expect(Number(row.last_used_at)).toBe(firstAt);
    expect(row).toMatchObject({ last_used_ip: '127.0.0.1', last_used_user_agent: 'probe/1.0' });

    // A newer use replaces it in the next batch, written at shutdown of the recorder.
    k.clock.advance(5000);
    const secondAt = k.clock.now();
    await k.anon.post('/v1/verify', { token }, { headers: { 'user-agent': 'probe/2.0' } });
    expect(await listed(tokenId)).toMatchObject({ lastUsedAt: secondAt, lastUsedUserAgent: 'probe/2.0' });
    expect(Number((await stored(tokenId)).last_used_at)).toBe(firstAt);
    await k.keyward.services.usage.stop();
    const after = await stored(tokenId);
    expect(Number(after.last_used_at)).toBe(secondAt);
    expect(after.last_used_user_agent).toBe('probe/2.0');
  });
});
