/**
 * The server as an operator runs it: `keyward serve` in its own process. It prints the bootstrap
 * banner on the first start only, logs JSON, serves, and exits 0 on SIGTERM or SIGINT.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgSchemaUrl, startServer, type ServerProcess } from '../helpers/cli.js';
import { pgUrl, type DbKind } from '../helpers/databases.js';
import { HttpClient } from '../helpers/keyward.js';

const BANNER = 'KEYWARD BOOTSTRAP';

function bannerToken(stdout: string): string {
  const m = /token:\s+(\S+)/.exec(stdout);
  if (!m) throw new Error(`no token in the banner:\n${stdout}`);
  return m[1]!;
}


for (const kind of ['sqlite', 'postgres'] as DbKind[]) {
  const d = kind === 'postgres' && !pgUrl() ? describe.skip : describe;
  d(`keyward serve [${kind}]`, () => {
    let args: string[];
    let cleanup: () => Promise<void>;
    let firstToken = '';
    const running: ServerProcess[] = [];

    beforeAll(async () => {
      if (kind === 'sqlite') {
        const dir = mkdtempSync(path.join(tmpdir(), 'keyward-serve-'));
        args = ['--data-dir', dir];
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      } else {
        // One schema of its own, named in the connection string's options.
        const { url, drop } = await pgSchemaUrl(pgUrl()!);
        args = ['--database-url', url];
        cleanup = drop;
      }
    });
    afterAll(async () => {
      for (const s of running) await s.stop('SIGKILL');
      await cleanup?.();
    });

    async function serve(): Promise<ServerProcess> {
      const s = await startServer(args);
      running.push(s);
      return s;
    }

    it('first start: banner with a working token on stdout, JSON logs, exit 0 on SIGTERM', async () => {
      const s = await serve();
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const out = s.stdout();
      expect(out).toContain(BANNER);
      const token = bannerToken(out);
      firstToken = token;
      const listening = s.logs().find((l) => l.msg === 'keyward listening')!;
      expect(listening).toMatchObject({ address: s.url, database: kind });

      const http = new HttpClient(s.url);
      expect((await http.get('/healthz')).status).toBe(200);
      expect((await http.get('/readyz')).status).toBe(200);
      const v = await http.post('/v1/verify', { token });
      expect(v.body).toMatchObject({ valid: true, principal: { email: 'admin@keyward.local' } });
      // The token is in the banner, never in a log line.
      expect(s.logs().some((l) => JSON.stringify(l).includes(token))).toBe(false);

      const exit = await s.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(s.logs().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
      expect(s.stderr()).toBe('');
    });

    it('second start on the same database: no banner, the first token still works, exit 0 on SIGINT', async () => {
      const s = await serve();
      expect(s.stdout()).not.toContain(BANNER);
      expect(s.stdout()).not.toMatch(/token:\s/);
      const http = new HttpClient(s.url);
      expect(firstToken).not.toBe('');
      expect((await http.post('/v1/verify', { token: firstToken })).body.valid).toBe(true);
      const accounts = await http.withToken(firstToken).get('/v1/accounts');
      expect(accounts.status).toBe(200);
      expect(accounts.body.total).toBe(1);
      const exit = await s.stop('SIGINT');
      expect(exit).toEqual({ code: 0, signal: null });
    });

    it('KEYWARD_BOOTSTRAP_TOKEN is not used on a database that is already bootstrapped', async () => {
      const given = 'pat.late_acct.0123456789abcdef01234567.AbCdEfGhIjKlMnOpQrSt';
      const s = await startServer(args, { env: { KEYWARD_BOOTSTRAP_TOKEN: given } });
      running.push(s);
      expect(s.stdout()).not.toContain(BANNER);
      expect((await new HttpClient(s.url).post('/v1/verify', { token: given })).body.valid).toBe(false);
      expect((await s.stop('SIGTERM')).code).toBe(0);
    });
  });
}

describe('keyward serve with a chosen bootstrap token', () => {
  it('uses KEYWARD_BOOTSTRAP_TOKEN on an empty database, and refuses to start with a malformed one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keyward-serve-'));
    try {
      const bad = await startServer(['--data-dir', dir], { env: { KEYWARD_BOOTSTRAP_TOKEN: 'pat.nope' } }).then(
        (s) => s.stop('SIGKILL').then(() => null),
        (e: Error) => e,
      );
      expect(bad).toBeInstanceOf(Error);
      expect(bad!.message).toMatch(/exited \([12]\) before listening/);
      expect(bad!.message).toContain('token: must be a well-formed personal access token');

      const given = 'pat.chosen.0123456789abcdef01234567.AbCdEfGhIjKlMnOpQrSt';
      const s = await startServer(['--data-dir', dir], { env: { KEYWARD_BOOTSTRAP_TOKEN: given } });
      try {
        expect(bannerToken(s.stdout())).toBe(given);
        expect((await new HttpClient(s.url).post('/v1/verify', { token: given })).body).toMatchObject({ valid: true, accountId: 'chosen' });
      } finally {
        expect((await s.stop('SIGTERM')).code).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
