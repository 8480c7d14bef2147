/**
 * The `keyward` command, run as a real process: version, help on every command, migrations,
 * account and user creation straight on the database, verification against a running server, and
 * bad input (a non-zero exit with a message on stderr).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgSchemaUrl, runCli, startServer } from '../helpers/cli.js';
import { describeEachDb, pgUrl } from '../helpers/databases.js';
import { HttpClient, startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { openStore } from '../../src/store/database.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'keyward-cli-data-'));
});
afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('keyward --version and --help', () => {
  it('--version and -v print the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });

  it.each([
    [[], ['serve', 'migrate', 'verify', 'account', 'user']],
    [['serve'], ['--port', '--host', '--data-dir', '--database-url', '--log-level']],
    [['migrate'], ['--data-dir', '--database-url']],
    [['verify'], ['<token>', '--url']],
    [['account'], ['create']],
    [['account', 'create'], ['--name', '--admin-email', '--admin-password', '--id', '--data-dir']],
    [['user'], ['create']],
    [['user', 'create'], ['--account', '--email', '--password', '--operator', '--data-dir']],
  ])('--help on `keyward %j` describes its options', async (cmd, mentions) => {
    const r = await runCli([...cmd, '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Usage: keyward ${cmd.join(' ')}`.trimEnd());
    for (const m of mentions) expect(r.stdout).toContain(m);
  });

  it('an unknown command exits non-zero with a message on stderr', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

describe('keyward migrate, account create and user create on a data dir', () => {
  let account: { accountId: string; adminUserId: string; token: string };

  it('migrate applies the migrations once, then says the database is up to date', async () => {
    const first = await runCli(['migrate', '--data-dir', dataDir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^applied: \S+/);
    const second = await runCli(['migrate', '--data-dir', dataDir]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('database is up to date');
  });

  it('account create prints the account id, the admin and a token as JSON', async () => {
    const r = await runCli(['account', 'create', '--data-dir', dataDir, '--name', 'CLI Co', '--admin-email', 'a@b.c']);
    expect(r.code, r.stderr).toBe(0);
    account = JSON.parse(r.stdout);
    expect(account.accountId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(typeof account.adminUserId).toBe('string');
    expect(account.token).toMatch(new RegExp(`^pat\\.${account.accountId}\\.[0-9a-f]{24}\\.[A-Za-z0-9]{20}$`));
    expect(r.stderr).toContain('shown once');
  });

  it('account create takes a chosen id, and refuses it twice', async () => {
    const r = await runCli(['account', 'create', '--data-dir', dataDir, '--name', 'Fixed', '--admin-email', 'fixed@b.c', '--id', 'fixed_id']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accountId).toBe('fixed_id');
    const again = await runCli(['account', 'create', '--data-dir', dataDir, '--name', 'Fixed', '--admin-email', 'fixed2@b.c', '--id', 'fixed_id']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Account [fixed_id] already exists');
    expect(again.stdout).toBe('');
  });

  it('user create adds a user to that account and prints it as JSON', async () => {
    const r = await runCli(['user', 'create', '--data-dir', dataDir, '--account', account.accountId, '--email', 'u@b.c', '--name', 'You']);
    expect(r.code, r.stderr).toBe(0);
    const u = JSON.parse(r.stdout);
    expect(u).toMatchObject({ accountId: account.accountId, email: 'u@b.c', name: 'You', active: true, isOperator: false, hasPassword: false });
    const op = await runCli(['user', 'create', '--data-dir', dataDir, '--account', account.accountId, '--email', 'op@b.c', '--operator'], {
      env: { KEYWARD_USER_PASSWORD: 'operator-password-1' },
    });
    expect(op.code, op.stderr).toBe(0);
    expect(JSON.parse(op.stdout)).toMatchObject({ isOperator: true, hasPassword: true });
  });

  it('what the CLI created is there when a server starts on the same data dir', async () => {
    const s = await startServer(['--data-dir', dataDir]);
    try {
      const http = new HttpClient(s.url, account.token);
      const users = await http.get(`/v1/accounts/${account.accountId}/users`);
      expect(users.status).toBe(200);
      expect(users.body.items.map((u: { email: string }) => u.email).sort()).toEqual(['a@b.c', 'op@b.c', 'u@b.c']);
      // The token printed by account create verifies, through the CLI too.
      const ok = await runCli(['verify', account.token, '--url', s.url]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, accountId: account.accountId, principal: { id: account.adminUserId } });
    } finally {
      expect((await s.stop('SIGTERM')).code).toBe(0);
    }
  });

  it.each([
    ['account create without --name', ['account', 'create', '--admin-email', 'x@b.c'], /required option '--name <name>' not specified/],
    ['account create without --admin-email', ['account', 'create', '--name', 'X'], /required option '--admin-email <email>' not specified/],
    ['account create with an invalid email', ['account', 'create', '--name', 'X', '--admin-email', 'not-an-email'], /adminEmail: must be a well-formed email address/],
    ['account create with a blank name', ['account', 'create', '--name', '  ', '--admin-email', 'blank@b.c'], /accountName: must be 1 to 128 characters/],
    ['account create with a bad id', ['account', 'create', '--name', 'X', '--admin-email', 'id@b.c', '--id', 'no/slash'], /accountId: can only contain/],
    ['account create with a short password', ['account', 'create', '--name', 'X', '--admin-email', 'pw@b.c', '--admin-password', 'short'], /adminPassword: must be at least 8 characters/],
    ['user create without --account', ['user', 'create', '--email', 'x@b.c'], /required option '--account <id>' not specified/],
    ['user create with an invalid email', ['user', 'create', '--account', 'fixed_id', '--email', 'nope'], /email: must be a well-formed email address/],
    ['user create with an email taken in that account', ['user', 'create', '--account', 'fixed_id', '--email', 'FIXED@b.c'], /A user with email FIXED@b.c already exists/],
    ['user create into an account that does not exist', ['user', 'create', '--account', 'no_such_account', '--email', 'ghost@b.c'], /Account \[no_such_account\] does not exist/],
    ['serve with a port that is no port', ['serve', '--port', 'eighty'], /must be a port number/],
  ])('%s exits non-zero with a message on stderr', async (_name, args, message) => {
    const withDir = args[0] === 'serve' ? args : [...args, '--data-dir', dataDir];
    const r = await runCli(withDir);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/"token"/);
  });

  it('session-secret rotate replaces the sealed session-signing secret', async () => {
    const read = async () => {
      const store = await openStore({ dataDir });
      try {
        return (await store.db.selectFrom('settings').select('value').where('key', '=', 'server.session_secret').executeTakeFirst())?.value ?? null;
      } finally {
        await store.close();
      }
    };
    const before = await read();
    expect(before).toMatch(/^v1\./); // sealed by the server started above
    const r = await runCli(['session-secret', 'rotate', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('every ZenML and console session has ended');
    const after = await read();
    expect(after).toMatch(/^v1\./);
    expect(after).not.toBe(before);
  });

  it('account create takes an admin email another account already uses (emails are unique per account)', async () => {
    const r = await runCli(['account', 'create', '--data-dir', dataDir, '--name', 'Same email', '--admin-email', 'A@B.C']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).accountId).not.toBe(account.accountId);
  });

  it('refused input created nothing', async () => {
    const s = await startServer(['--data-dir', dataDir]);
    try {
      const users = await new HttpClient(s.url, account.token).get(`/v1/accounts/${account.accountId}/users`);
      expect(users.body.total).toBe(3);
    } finally {
      await s.stop('SIGTERM');
    }
  });
});

describe.skipIf(!pgUrl())('keyward migrate and account create on PostgreSQL', () => {
  let url: string;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ url, drop } = await pgSchemaUrl(pgUrl()!));
  });
  afterAll(async () => drop?.());

  it('migrates once, then is up to date; creates an account and a user in it', async () => {
    const first = await runCli(['migrate', '--database-url', url]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^applied: /);
    const second = await runCli(['migrate'], { env: { KEYWARD_DATABASE_URL: url } });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('database is up to date');

    const acc = await runCli(['account', 'create', '--database-url', url, '--name', 'PG Co', '--admin-email', 'pg@b.c']);
    expect(acc.code, acc.stderr).toBe(0);
    const { accountId, token } = JSON.parse(acc.stdout) as { accountId: string; token: string };
    const user = await runCli(['user', 'create', '--database-url', url, '--account', accountId, '--email', 'pguser@b.c']);
    expect(user.code, user.stderr).toBe(0);
    expect(JSON.parse(user.stdout).accountId).toBe(accountId);

    // The rows are in that schema: a server on it sees them and accepts the token.
    const s = await startServer(['--database-url', url]);
    try {
      const users = await new HttpClient(s.url, token).get(`/v1/accounts/${accountId}/users`);
      expect(users.status).toBe(200);
      expect(users.body.total).toBe(2);
    } finally {
      expect((await s.stop('SIGTERM')).code).toBe(0);
    }
  });
});

describeEachDb('keyward verify against a running server', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  it('exits 0 and prints the answer for the bootstrap token', async () => {
    const r = await runCli(['verify', k.admin.token, '--url', k.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, tokenId: k.bootstrap.tokenRecord.id, principal: { id: k.admin.userId } });
  });

  it('takes the URL from KEYWARD_URL', async () => {
    const r = await runCli(['verify', k.admin.token], { env: { KEYWARD_URL: k.url } });
    expect(r.code, r.stderr).toBe(0);
  });

  it('exits 1 for a bad token, a wrong secret and an expired one, saying why', async () => {
    const bad = await runCli(['verify', 'not-a-token', '--url', k.url]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ valid: false, reason: 'malformed' });
    const wrong = await runCli(['verify', k.admin.token.replace(/.$/, (c) => (c === 'z' ? 'y' : 'z')), '--url', k.url]);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).reason).toBe('wrong_secret');
    const start = k.clock.now();
    k.clock.advance(31 * 24 * 60 * 60 * 1000);
    try {
      const expired = await runCli(['verify', k.admin.token, '--url', k.url]);
      expect(expired.code).toBe(1);
      expect(JSON.parse(expired.stdout).reason).toBe('expired');
    } finally {
      k.clock.set(start);
    }
  });

  it('exits non-zero with a message when the server cannot be reached', async () => {
    // Port 1 (tcpmux) is closed on any machine that runs these tests.
    const r = await runCli(['verify', k.admin.token, '--url', 'http://127.0.0.1:1/']);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^keyward: cannot reach Keyward at http:\/\/127\.0\.0\.1:1 \(.+\); is it running\? Set --url or KEYWARD_URL\n$/);
    expect(r.stderr).not.toContain(k.admin.token);
    expect(r.stdout).toBe('');
  });

  it('says so when --url is not a URL or not a Keyward', async () => {
    const notUrl = await runCli(['verify', k.admin.token, '--url', 'localhost 8080']);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(/^keyward: --url "localhost 8080" is not a URL/);
    // Some other web server on that port.
    const other = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<html>nope</html>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const port = (other.address() as AddressInfo).port;
      const notKeyward = await runCli(['verify', k.admin.token, '--url', `http://127.0.0.1:${port}`]);
      expect(notKeyward.code).toBe(2);
      expect(notKeyward.stderr).toBe(`keyward: http://127.0.0.1:${port} answered 404 with something that is not Keyward's JSON; is --url right?\n`);
    } finally {
      other.close();
    }
  });

  it('reads the token from standard input when given -, keeping it off the command line', async () => {
    const r = await runCli(['verify', '-', '--url', k.url], { input: `${k.admin.token}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, principal: { id: k.admin.userId } });
    const bad = await runCli(['verify', '-', '--url', k.url], { input: 'not-a-token' });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).reason).toBe('malformed');
  });
});
