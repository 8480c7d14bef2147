/**
 * A node that loses its LISTEN connection cannot know what it missed: it must stop serving from its
 * cache (keeping entries only for stale-if-error, which needs the database to be unreachable),
 * reconnect, and only then cache again, starting empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/database.js';
import { createKeyward, type Keyward } from '../../src/server/keyward.js';
import { loadConfig } from '../../src/server/config.js';
import { pgUrl } from '../helpers/databases.js';
import { HttpClient, startKeyward, type TestKeyward } from '../helpers/keyward.js';

const d = pgUrl() ? describe : describe.skip;

async function until(check: () => boolean | Promise<boolean>, limitMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > limitMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

d('invalidation listener loss', () => {
  let k: TestKeyward;
  let second: Keyward;
  let B: HttpClient;

  beforeAll(async () => {
    k = await startKeyward('postgres');
    const store = await openStore({ databaseUrl: pgUrl()!, pgSchema: k.testStore.pgSchema! });
    second = await createKeyward({ config: loadConfig({}, { port: 0, host: '127.0.0.1', logLevel: 'silent' }), store, clock: k.clock, announce: () => undefined });
    B = new HttpClient(await second.listen(), k.admin.token);
  });
  afterAll(async () => {
    await second?.close();
    await k?.close();
  });

  it('clears and disables the cache while disconnected, and resumes after reconnecting', async () => {
    const q = { accountIdentifier: k.admin.accountId };
    await k.http.post('/ng/api/apikey', { identifier: 'rk', name: 'rk', apiKeyType: 'USER', parentIdentifier: k.admin.userId, accountIdentifier: k.admin.accountId }, { query: q });
    const issued = await k.http.post('/ng/api/token', { identifier: 'rt', name: 'rt', apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: 'rk', accountIdentifier: k.admin.accountId }, { query: q });
    const token = issued.body.data as string;
    const cache = second.services.verification.cache;

    await until(() => second.relay!.connected && cache.enabled);
    expect((await B.post('/v1/verify', { token })).body.valid).toBe(true);
    expect(cache.size).toBeGreaterThan(0);

    await second.relay!.simulateDisconnect();
    await until(() => !cache.enabled);
    // Kept for stale-if-error, but not served while the database answers.
    expect(cache.staleSince).not.toBeNull();

    // Revoked while B may not be listening: B must not answer from anything it cached before.
    await k.http.delete('/ng/api/token/rt', { query: { ...q, apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: 'rk' } });
    const after = await B.post('/v1/verify', { token });
    expect(after.body.reason).toBe('deleted');
    expect(after.body.stale).toBeUndefined();
    // The database answered while B was out of step: what B kept can no longer be trusted, even stale.
    expect(cache.staleSince).toBeNull();
    expect(cache.getStale(`t:${token.split('.')[2]}`)).toBeUndefined();

    await until(() => second.relay!.connected && cache.enabled);
    expect((await B.post('/v1/verify', { token: k.admin.token })).body.valid).toBe(true);
    expect(cache.size).toBeGreaterThan(0);
  });
});
