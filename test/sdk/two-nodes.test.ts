/**
 * Two `keyward serve` processes on one PostgreSQL: an SDK subscribed to node B hears a revocation
 * made through node A (B relays what it hears from A over LISTEN/NOTIFY) and refuses the token
 * within a second, by the pushed eviction.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeywardClient, type KeywardClient } from '../../packages/sdk/src/index.js';
import { dropSchema, pgUrl } from '../helpers/databases.js';
import { HttpClient } from '../helpers/keyward.js';
import { spawnTwoNodes, type KeywardProcess } from '../helpers/process.js';
import { data, openStream, serviceAccountToken, tokenQuery, within, type RawStream } from './fixture.js';

const url = pgUrl();
const d = url ? describe : describe.skip;

d('the SDK against two nodes on one PostgreSQL', () => {
  const schema = `kw_sdk2_${randomBytes(5).toString('hex')}`;
  let a: KeywardProcess;
  let b: KeywardProcess;
  let A: HttpClient;
  let acc: string;
  const clients: KeywardClient[] = [];
  const streams: RawStream[] = [];

  beforeAll(async () => {
    [a, b] = await spawnTwoNodes(url!, schema, { KEYWARD_STREAM_HEARTBEAT_MS: '500' });
    A = new HttpClient(a.url, a.bootstrapToken);
    acc = (await A.get('/v1/whoami')).body.accountId;
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of streams) s.close();
    expect(await a?.stop()).toBe(0);
    expect(await b?.stop()).toBe(0);
    await dropSchema(url!, schema);
  });

  it("node B's stream relays what node A publishes, with B's own ids", async () => {
    const s = await openStream(b.url, a.bootstrapToken, acc);
    streams.push(s);
    const ready = await s.next((e) => e.event === 'ready');
    const bot = await serviceAccountToken(A, acc);
    expect((await A.delete('/ng/api/token/t', { query: tokenQuery(acc, bot.sa) })).status).toBe(200);
    const e = await s.next((x) => x.event === 'invalidate' && data(x).kind === 'token' && data(x).tokenIds.includes(bot.id));
    expect(data(e).accountId).toBe(acc);
    expect(e.id!.split('-')[0]).toBe(ready.id!.split('-')[0]);
    await within(2000, () => s.text().includes(': heartbeat'), 'heartbeat from B');
  });

  it('an SDK subscribed to B refuses a token revoked through A within a second, by the pushed eviction', async () => {
    const sdk = createKeywardClient({ baseUrl: b.url, token: a.bootstrapToken! });
    clients.push(sdk);
    expect(await sdk.connect()).toBe(true);
    const bot = await serviceAccountToken(A, acc);
    expect(await sdk.verify(bot.token)).toMatchObject({ valid: true, cached: false });
    expect(await sdk.verify(bot.token)).toMatchObject({ valid: true, cached: true });
    const before = sdk.metrics();
    const t0 = performance.now();
    expect((await A.delete('/ng/api/token/t', { query: tokenQuery(acc, bot.sa) })).status).toBe(200);
    await within(1000, () => sdk.metrics().evictions > before.evictions, 'eviction pushed through B');
    expect(await sdk.verify(bot.token)).toMatchObject({ valid: false, reason: 'deleted' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(sdk.metrics()).toMatchObject({ hits: before.hits, misses: before.misses + 1, streamConnected: true });
  });

  it('a service account deactivated through A is refused by an SDK on B within a second', async () => {
    const sdk = createKeywardClient({ baseUrl: b.url, token: a.bootstrapToken! });
    clients.push(sdk);
    expect(await sdk.connect()).toBe(true);
    const bot = await serviceAccountToken(A, acc);
    await sdk.verify(bot.token);
    expect((await sdk.verify(bot.token)).cached).toBe(true);
    expect((await A.patch(`/v1/accounts/${acc}/service-accounts/${bot.sa}`, { active: false })).status).toBe(200);
    await within(1000, async () => (await sdk.verify(bot.token)).valid === false, 'refused');
    expect(await sdk.verify(bot.token)).toMatchObject({ valid: false, reason: 'principal_inactive' });
  });
});
