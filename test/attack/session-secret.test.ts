/**
 * Finding 1 (issue 12): anyone who could read the database could forge an admin session, because
 * the session-signing secret sat in `settings` in plain text. Now it is sealed under the master key;
 * a plain secret left by an older Keyward is replaced on start (sessions it signed end); a
 * master-key rotation re-seals it; `rotateSecret` ends every session.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { signJwt } from '../../src/domain/jwt.js';
import { loadConfig } from '../../src/server/config.js';
import { createKeyward, type Keyward } from '../../src/server/keyward.js';
import { userIdToUuid } from '../../src/protocols/zenml/models.js';
import { openStore, type Store } from '../../src/store/database.js';
import { describeEachDb, dropSchema, openTestStore, pgUrl, type TestStore } from '../helpers/databases.js';
import { HttpClient } from '../helpers/keyward.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const PASSWORD = 'correct horse battery staple';

describeEachDb('attack: the session-signing secret', (kind) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keyward-sess-'));
  const open: Keyward[] = [];
  let ts: TestStore;
  let store: Store;
  afterAll(async () => {
    for (const k of open) await k.close().catch(() => undefined);
    if (ts?.pgSchema) await dropSchema(pgUrl()!, ts.pgSchema);
    rmSync(dir, { recursive: true, force: true });
  });

  async function reopen(): Promise<void> {
    store = ts.sqliteFile ? await openStore({ sqliteFile: ts.sqliteFile }) : await openStore({ databaseUrl: pgUrl()!, pgSchema: ts.pgSchema! });
  }

  async function start(env: Record<string, string> = {}): Promise<{ k: Keyward; anon: HttpClient }> {
    const config = loadConfig(env, { port: 0, host: '127.0.0.1', logLevel: 'silent', dataDir: dir, bootstrapPassword: PASSWORD });
    const k = await createKeyward({ config, store, clock: new ManualClock(NOW), announce: () => undefined });
    open.push(k);
    return { k, anon: new HttpClient(await k.listen(), null) };
  }

  async function settings(): Promise<Array<{ key: string; value: string }>> {
    return store.db.selectFrom('settings').select(['key', 'value']).execute();
  }

  /** What a database reader would try: every settings value, as text and decoded, as the HMAC key. */
  function candidateSecrets(rows: Array<{ value: string }>): Buffer[] {
    return rows.flatMap((r) => [Buffer.from(r.value, 'utf8'), Buffer.from(r.value, 'base64url'), ...r.value.split('.').map((p) => Buffer.from(p, 'base64url'))]);
  }

  async function forgeFor(anon: HttpClient, userId: string, secret: Buffer): Promise<string> {
    const serverId = (await anon.get('/api/v1/info')).body.id as string;
    return signJwt({ sub: userIdToUuid(userId), iss: serverId, aud: serverId, iat: Math.floor(NOW / 1000) }, secret);
  }

  const currentUser = (anon: HttpClient, jwt: string) => anon.get('/api/v1/current-user', { headers: { authorization: `Bearer ${jwt}` } });

  async function passwordLogin(anon: HttpClient, email: string): Promise<string> {
    const res = await anon.request('POST', '/api/v1/login', {
      rawBody: new URLSearchParams({ grant_type: 'password', username: email, password: PASSWORD }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status, res.text).toBe(200);
    return res.body.access_token as string;
  }

  it('a database reader cannot forge a session; an old plain secret is replaced and its sessions refused; rotations', async () => {
    ts = await openTestStore(kind, { migrate: false });
    store = ts.store;
    const first = await start();
    const b = first.k.bootstrapped!;
    const adminId = b.admin.id;

    // A real session works.
    const real = await passwordLogin(first.anon, b.admin.email);
    expect((await currentUser(first.anon, real)).status).toBe(200);

    // No plain secret in the database: nothing a reader finds signs a session that is accepted.
    const rows = await settings();
    expect(rows.map((r) => r.key)).not.toContain('server.jwt_secret');
    expect(rows.find((r) => r.key === 'server.session_secret')?.value).toMatch(/^v1\./);
    for (const secret of candidateSecrets(rows)) {
      const forged = await forgeFor(first.anon, adminId, secret);
      expect((await currentUser(first.anon, forged)).status).toBe(401);
    }

    // A database written by an older Keyward: the secret in plain text, no sealed one.
    await first.k.close();
    await reopen();
    const plain = randomBytes(32).toString('base64url');
    await store.db.deleteFrom('settings').where('key', '=', 'server.session_secret').execute();
    await store.db.insertInto('settings').values({ key: 'server.jwt_secret', value: plain, created_at: NOW }).execute();
    const second = await start();
    const oldSession = await forgeFor(second.anon, adminId, Buffer.from(plain, 'base64url'));
    expect((await currentUser(second.anon, oldSession)).status).toBe(401);
    expect((await settings()).map((r) => r.key)).not.toContain('server.jwt_secret');
    const fresh = await passwordLogin(second.anon, b.admin.email);
    expect((await currentUser(second.anon, fresh)).status).toBe(200);

    // Master-key rotation re-seals the secret under the new key; sessions go on.
    const fileKey = (await import('node:fs')).readFileSync(path.join(dir, 'master.key'), 'utf8').trim();
    const sealedBefore = (await settings()).find((r) => r.key === 'server.session_secret')!.value;
    await second.k.close();
    await reopen();
    const third = await start({ KEYWARD_MASTER_KEY: randomBytes(32).toString('hex'), KEYWARD_MASTER_KEY_PREVIOUS: fileKey });
    const sealedAfter = (await settings()).find((r) => r.key === 'server.session_secret')!.value;
    expect(sealedAfter.split('.')[1]).not.toBe(sealedBefore.split('.')[1]);
    expect((await currentUser(third.anon, fresh)).status).toBe(200);

    // Rotating the session secret itself ends every session; a new sign-in works.
    await third.k.services.sessions.rotateSecret();
    expect((await currentUser(third.anon, fresh)).status).toBe(401);
    const after = await passwordLogin(third.anon, b.admin.email);
    expect((await currentUser(third.anon, after)).status).toBe(200);
  });
});
