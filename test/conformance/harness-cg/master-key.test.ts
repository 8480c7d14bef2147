/**
 * The master key that seals CG keys (docs/compat/harness-cg.md): without KEYWARD_MASTER_KEY a key
 * file is created once, mode 0600, in the data folder; with older keys in KEYWARD_MASTER_KEY_PREVIOUS
 * a restart re-seals every CG key under the new key, and the value CG REST returns is unchanged;
 * a value sealed under a key the server no longer holds is a clear 4xx, not a 500.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/clock.js';
import { loadConfig } from '../../../src/server/config.js';
import { createKeyward, type Keyward } from '../../../src/server/keyward.js';
import { describeEachDb, dropSchema, openTestStore, pgUrl, type TestStore } from '../../helpers/databases.js';
import { openStore, type Store } from '../../../src/store/database.js';
import { HttpClient } from '../../helpers/keyward.js';

describeEachDb('harness CG master key', (kind) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keyward-mk-'));
  let ts: TestStore;
  const open: Keyward[] = [];
  afterAll(async () => {
    for (const k of open) await k.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  let store: Store;
  /** The same database again, after a Keyward closed it. */
  async function reopen(): Promise<void> {
    store = ts.sqliteFile ? await openStore({ sqliteFile: ts.sqliteFile }) : await openStore({ databaseUrl: pgUrl()!, pgSchema: ts.pgSchema! });
  }

  async function start(env: Record<string, string>): Promise<{ k: Keyward; http: HttpClient; acc: string }> {
    const config = loadConfig(env, { port: 0, host: '127.0.0.1', logLevel: 'silent', dataDir: dir });
    const k = await createKeyward({ config, store, clock: new ManualClock(Date.UTC(2026, 0, 15)), announce: () => undefined });
    open.push(k);
    const url = await k.listen();
    return { k, http: new HttpClient(url, env.TOKEN ?? null), acc: '' };
  }

  it('creates the key file once with mode 0600, re-seals on rotation, and refuses a value it cannot open', async () => {
    ts = await openTestStore(kind, { migrate: false });
    store = ts.store;
    const first = await start({});
    const b = first.k.bootstrapped!;
    const http = new HttpClient((first.http as HttpClient).baseUrl, b.token);
    const created = await http.post('/api/api-keys', { name: 'sealed' }, { query: { accountId: b.account.id } });
    expect(created.status, created.text).toBe(200);
    const value = created.body.resource.decryptedKey as string;
    const file = path.join(dir, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const fileKey = readFileSync(file, 'utf8').trim();
    await first.k.close();
    await reopen();

    // Rotation: a new key, the file's key as the previous one. The restart re-seals.
    const newKey = randomBytes(32).toString('hex');
    const before = (await store.db.selectFrom('cg_api_keys').select('encrypted_value').executeTakeFirstOrThrow()).encrypted_value;
    const secondStore = store;
    const second = await start({ KEYWARD_MASTER_KEY: newKey, KEYWARD_MASTER_KEY_PREVIOUS: fileKey });
    const after = (await secondStore.db.selectFrom('cg_api_keys').select('encrypted_value').executeTakeFirstOrThrow()).encrypted_value;
    expect(after).not.toBe(before);
    const http2 = new HttpClient(second.http.baseUrl, b.token);
    const read = await http2.get(`/api/api-keys/${created.body.resource.uuid}`, { query: { accountId: b.account.id } });
    expect(read.body.resource.decryptedKey).toBe(value);
    await second.k.close();
    await reopen();

    // Without the key that sealed it: a clear refusal, and the key still verifies (by its digest).
    const third = await start({ KEYWARD_MASTER_KEY: randomBytes(32).toString('base64') });
    const http3 = new HttpClient(third.http.baseUrl, b.token);
    const lost = await http3.get(`/api/api-keys/${created.body.resource.uuid}`, { query: { accountId: b.account.id } });
    expect(lost.status).toBe(400);
    expect(lost.body.responseMessages[0].message).toMatch(/cannot be decrypted with this server's master key/);
    expect((await new HttpClient(third.http.baseUrl, value).get('/v1/whoami')).status).toBe(200);
    await third.k.close();
    if (ts.pgSchema) await dropSchema(pgUrl()!, ts.pgSchema);
  });
});
