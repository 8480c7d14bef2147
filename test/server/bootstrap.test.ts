/**
 * Bootstrap: the first start on an empty database creates the default account, its operator admin
 * and a token, announced once; any later start (same store, or the same database reopened) creates
 * nothing and announces nothing; KEYWARD_BOOTSTRAP_TOKEN chooses the token.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { openStore, type Store } from '../../src/store/database.js';
import { loadConfig, type Config } from '../../src/server/config.js';
import { createKeyward, type Keyward } from '../../src/server/keyward.js';
import { describeEachDb, openTestStore, pgUrl, type DbKind, type TestStore } from '../helpers/databases.js';
import { HttpClient } from '../helpers/keyward.js';

const YEAR = 365 * 24 * 60 * 60 * 1000;

function config(overrides: Partial<Config> = {}): Config {
  return loadConfig({}, { port: 0, host: '127.0.0.1', logLevel: 'silent', usageFlushMs: 60_000, ...overrides });
}

function reopen(ts: TestStore): Promise<Store> {
  return ts.kind === 'sqlite' ? openStore({ sqliteFile: ts.sqliteFile! }) : openStore({ databaseUrl: pgUrl()!, pgSchema: ts.pgSchema!, poolSize: 2 });
}

describeEachDb('bootstrap', (kind: DbKind) => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  async function fresh(): Promise<TestStore> {
    const ts = await openTestStore(kind, { migrate: false });
    cleanups.push(() => ts.cleanup());
    return ts;
  }

  async function start(opts: { store: Store; config?: Partial<Config>; announce?: (t: string) => void }): Promise<{ k: Keyward; http: HttpClient }> {
    const k = await createKeyward({ config: config(opts.config), clock, store: opts.store, announce: opts.announce ?? (() => undefined) });
    cleanups.push(() => k.close());
    return { k, http: new HttpClient(await k.listen()) };
  }

  it('the first start creates an operator admin whose token verifies, and announces it once', async () => {
    const ts = await fresh();
    const announce = vi.fn<(t: string) => void>();
    const { k, http } = await start({ store: ts.store, announce });
    const b = k.bootstrapped!;
    expect(b).not.toBeNull();
    expect(b.admin).toMatchObject({ email: 'admin@keyward.local', isOperator: true, active: true, accountId: b.account.id });
    expect(b.account.name).toBe('Default Account');
    expect(announce).toHaveBeenCalledTimes(1);
    const banner = announce.mock.calls[0]![0];
    expect(banner).toContain(b.token);
    expect(banner).toContain(b.account.id);
    expect(banner).toContain('shown ONCE');

    const v = await http.post('/v1/verify', { token: b.token });
    expect(v.body).toMatchObject({ valid: true, accountId: b.account.id, principal: { id: b.admin.id } });
    expect((await http.withToken(b.token).get('/v1/accounts')).status).toBe(200);
  });

  it('a second Keyward on the same store bootstraps nothing and announces nothing', async () => {
    const ts = await fresh();
    const first = await start({ store: ts.store });
    const token = first.k.bootstrapped!.token;
    const announce = vi.fn<(t: string) => void>();
    const second = await start({ store: ts.store, announce });
    expect(second.k.bootstrapped).toBeNull();
    expect(announce).not.toHaveBeenCalled();
    // One account, one user: nothing was created twice, and the first token works on the second node.
    const accounts = await second.http.withToken(token).get('/v1/accounts');
    expect(accounts.body.total).toBe(1);
    const users = await second.http.withToken(token).get(`/v1/accounts/${first.k.bootstrapped!.account.id}/users`);
    expect(users.body.total).toBe(1);
    expect((await second.http.post('/v1/verify', { token })).body.valid).toBe(true);
  });

  it('a restart on the same database (a store opened again) bootstraps nothing', async () => {
    const ts = await fresh();
    const first = await start({ store: ts.store });
    const token = first.k.bootstrapped!.token;
    const again = await reopen(ts);
    const announce = vi.fn<(t: string) => void>();
    const second = await start({ store: again, announce });
    expect(second.k.bootstrapped).toBeNull();
    expect(announce).not.toHaveBeenCalled();
    expect((await second.http.post('/v1/verify', { token })).body.valid).toBe(true);
    expect((await second.http.withToken(token).get('/v1/accounts')).body.total).toBe(1);
  });

  it('KEYWARD_BOOTSTRAP_TOKEN makes that exact token the admin token, in the account it names', async () => {
    const given = 'pat.acme_corp.0123456789abcdef01234567.AbCdEfGhIjKlMnOpQrSt';
    expect(loadConfig({ KEYWARD_BOOTSTRAP_TOKEN: given }).bootstrapToken).toBe(given);
    const ts = await fresh();
    const announce = vi.fn<(t: string) => void>();
    const { k, http } = await start({ store: ts.store, config: { bootstrapToken: given, bootstrapEmail: 'ops@acme.example' }, announce });
    const b = k.bootstrapped!;
    expect(b.token).toBe(given);
    expect(b.account.id).toBe('acme_corp');
    expect(b.tokenRecord.id).toBe('0123456789abcdef01234567');
    expect(b.admin.email).toBe('ops@acme.example');
    expect(announce.mock.calls[0]![0]).toContain(given);
    const v = await http.post('/v1/verify', { token: given });
    expect(v.body).toMatchObject({ valid: true, accountId: 'acme_corp', tokenId: '0123456789abcdef01234567', expiresAt: clock.now() + YEAR });
    // Only that exact secret.
    expect((await http.post('/v1/verify', { token: given.replace(/t$/, 'u') })).body).toEqual({ valid: false, reason: 'wrong_secret' });
  });

  it('a malformed KEYWARD_BOOTSTRAP_TOKEN makes the start fail with a clear message, and leaves the database unbootstrapped', async () => {
    const ts = await fresh();
    for (const bad of ['not-a-token', 'sat.acme.0123456789abcdef01234567.AbCdEfGhIjKlMnOpQrSt', 'pat.acme.0123456789abcdef01234567.short', 'pat.0123456789abcdef01234567.AbCdEfGhIjKlMnOpQrSt']) {
      const announce = vi.fn<(t: string) => void>();
      await expect(createKeyward({ config: config({ bootstrapToken: bad }), clock, store: ts.store, announce })).rejects.toThrow(
        /token: must be a well-formed personal access token: pat\.<accountId>\.<24 hex>\.<20 alphanumerics>/,
      );
      expect(announce).not.toHaveBeenCalled();
    }
    // Nothing was half-done: a start without the token bootstraps normally.
    const { k } = await start({ store: ts.store });
    expect(k.bootstrapped).not.toBeNull();
  });

  it('a bootstrap password lets the admin sign in with it', async () => {
    const ts = await fresh();
    const { k } = await start({ store: ts.store, config: { bootstrapPassword: 'first-admin-password' } });
    expect(k.bootstrapped!.admin.hasPassword).toBe(true);
    await expect(k.services.users.authenticate('admin@keyward.local', 'first-admin-password')).resolves.toMatchObject({ id: k.bootstrapped!.admin.id });
  });
});
