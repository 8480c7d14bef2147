/**
 * Keyward's GET /v1/verify behind a real nginx (Debian's package, `auth_request` module): a client
 * calls nginx, nginx asks Keyward, and only an allowed request reaches a tiny upstream, carrying the
 * principal in headers (auth_request_set from Keyward's X-Keyward-* response headers). The nginx
 * configuration is the one docs/integrations.md shows.
 *
 * nginx runs as a non-daemon child on a free loopback port, with its own prefix directory (pid file,
 * logs, temp paths). Without nginx the test is skipped with one line on stderr, unless
 * KEYWARD_REQUIRE_CLIENTS=1 (CI), where it fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScope } from '../../src/domain/scope.js';
import { SYSTEM_CALLER } from '../../src/services/context.js';
import { describeEachDb, type DbKind } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { userWithToken } from '../helpers/nativeApi.js';
import { repoRoot } from '../helpers/sharedClients.js';

const NGINX = process.env.KEYWARD_NGINX ?? '/usr/sbin/nginx';

function missingNginx(): string | null {
  try {
    accessSync(NGINX, constants.X_OK);
  } catch {
    return `${NGINX} is not installed (Debian's nginx package)`;
  }
  const v = spawnSync(NGINX, ['-V'], { encoding: 'utf8' });
  if (!`${v.stdout}${v.stderr}`.includes('--with-http_auth_request_module')) return `${NGINX} lacks the auth_request module`;
  return null;
}

const missing = missingNginx();
if (missing) {
  if (process.env.KEYWARD_REQUIRE_CLIENTS === '1') {
    describe('Keyward behind nginx auth_request', () => {
      it('has nginx', () => {
        throw new Error(`${missing} and KEYWARD_REQUIRE_CLIENTS=1 (.ci/run installs it)`);
      });
    });
  } else {
    process.stderr.write(`\n[keyward tests] SKIPPING the nginx auth_request tests: ${missing} (KEYWARD_REQUIRE_CLIENTS=1 makes this fail)\n\n`);
  }
}

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port} within ${limitMs} ms:\n${log()}`);
}

/** The configuration docs/integrations.md shows, with this test's ports and directories. */
function nginxConf(dir: string, ports: { nginx: number; keyward: number; app: number }): string {
  return `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }

http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  upstream keyward { server 127.0.0.1:${ports.keyward}; keepalive 8; }
  upstream app { server 127.0.0.1:${ports.app}; }

  server {
    listen 127.0.0.1:${ports.nginx};

    # The forward-auth call: the client's headers (its X-Api-Key or Authorization) go along as they
    # are; no body; GET whatever the client's method was. A location names what it requires in
    # $keyward_permission.
    location = /_keyward_verify {
      internal;
      proxy_pass http://keyward/v1/verify?permission=$keyward_permission;
      proxy_method GET;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      # Requirements come from this URL only: drop any a client sent as headers.
      proxy_set_header X-Keyward-Require-Permission "";
      proxy_set_header X-Keyward-Require-Account "";
      proxy_set_header X-Keyward-Require-Org "";
      proxy_set_header X-Keyward-Require-Project "";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }

    location /api/ {
      set $keyward_permission "";
      auth_request /_keyward_verify;
      auth_request_set $keyward_principal_type $upstream_http_x_keyward_principal_type;
      auth_request_set $keyward_principal_id $upstream_http_x_keyward_principal_id;
      auth_request_set $keyward_principal_identifier $upstream_http_x_keyward_principal_identifier;
      auth_request_set $keyward_account_id $upstream_http_x_keyward_account_id;
      auth_request_set $keyward_expires_at $upstream_http_x_keyward_expires_at;
      # Set, never passed through: a client cannot name its own principal.
      proxy_set_header X-Keyward-Principal-Type $keyward_principal_type;
      proxy_set_header X-Keyward-Principal-Id $keyward_principal_id;
      proxy_set_header X-Keyward-Principal-Identifier $keyward_principal_identifier;
      proxy_set_header X-Keyward-Account-Id $keyward_account_id;
      proxy_set_header X-Keyward-Expires-At $keyward_expires_at;
      proxy_pass http://app;
    }

    location /admin/ {
      set $keyward_permission core_user_manage;
      auth_request /_keyward_verify;
      auth_request_set $keyward_principal_type $upstream_http_x_keyward_principal_type;
      auth_request_set $keyward_principal_id $upstream_http_x_keyward_principal_id;
      auth_request_set $keyward_principal_identifier $upstream_http_x_keyward_principal_identifier;
      auth_request_set $keyward_account_id $upstream_http_x_keyward_account_id;
      auth_request_set $keyward_expires_at $upstream_http_x_keyward_expires_at;
      # Set, never passed through: a client cannot name its own principal.
      proxy_set_header X-Keyward-Principal-Type $keyward_principal_type;
      proxy_set_header X-Keyward-Principal-Id $keyward_principal_id;
      proxy_set_header X-Keyward-Principal-Identifier $keyward_principal_identifier;
      proxy_set_header X-Keyward-Account-Id $keyward_account_id;
      proxy_set_header X-Keyward-Expires-At $keyward_expires_at;
      proxy_pass http://app;
    }
  }
}
`;
}

/** The server part of `nginxConf` as docs/integrations.md prints it: its addresses, two spaces less indent. */
function asDocumented(conf: string, ports: { nginx: number; keyward: number; app: number }): string {
  const part = conf.slice(conf.indexOf('  upstream keyward {'), conf.lastIndexOf('\n}'));
  return part
    .replace(`listen 127.0.0.1:${ports.nginx};`, 'listen 80;')
    .replace(`127.0.0.1:${ports.keyward};`, '127.0.0.1:8080;')
    .replace(`upstream app { server 127.0.0.1:${ports.app}; }`, 'upstream app     { server 127.0.0.1:9000; }')
    .split('\n')
    .map((l) => (l.startsWith('  ') ? l.slice(2) : l))
    .join('\n')
    .trimEnd();
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Both databases, or one skipped block when nginx is missing. */
const suite = missing ? (name: string, fn: (kind: DbKind) => void) => describe.skip(name, () => fn('sqlite')) : describeEachDb;

suite('Keyward behind nginx auth_request', (kind) => {
  let k: TestKeyward;
  let dir: string;
  let nginx: ChildProcess;
  let nginxLog = '';
  let app: Server;
  let base: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    k = await startKeyward(kind);
    app = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: true }));
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const ports = { nginx: await freePort(), keyward: Number(new URL(k.url).port), app: (app.address() as { port: number }).port };
    dir = mkdtempSync(path.join(tmpdir(), 'keyward-nginx-'));
    writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(dir, ports));
    nginx = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    nginx.stdout!.on('data', (d: Buffer) => (nginxLog += d.toString()));
    nginx.stderr!.on('data', (d: Buffer) => (nginxLog += d.toString()));
    const errorLog = () => {
      let file = '';
      try {
        file = readFileSync(path.join(dir, 'error.log'), 'utf8');
      } catch {
        // not written yet
      }
      return `${nginxLog}\n${file}`;
    };
    await waitForPort(ports.nginx, nginx, errorLog);
    base = `http://127.0.0.1:${ports.nginx}`;
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
    await k?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function call(pathname: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers; upstreamSaw: Seen | null }> {
    const before = seen.length;
    const res = await fetch(`${base}${pathname}`, init);
    const text = await res.text();
    return { status: res.status, text, headers: res.headers, upstreamSaw: seen.length > before ? seen[seen.length - 1]! : null };
  }

  it('runs the configuration docs/integrations.md shows', () => {
    const ports = { nginx: 1, keyward: 2, app: 3 };
    const docs = readFileSync(path.join(repoRoot, 'docs/integrations.md'), 'utf8');
    const block = /```nginx\n([\s\S]*?)```/.exec(docs)?.[1]?.trimEnd();
    expect(block).toBe(asDocumented(nginxConf('/x', ports), ports));
  });

  it('lets a valid token through, with the principal in headers the client cannot forge', async () => {
    const r = await call('/api/things?x=1', {
      headers: { 'x-api-key': k.admin.token, 'x-keyward-principal-id': 'forged', 'x-keyward-principal-identifier': 'forged', 'x-keyward-account-id': 'forged' },
    });
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ upstream: true });
    expect(r.upstreamSaw).toMatchObject({ method: 'GET', url: '/api/things?x=1' });
    const h = r.upstreamSaw!.headers;
    expect(h['x-keyward-principal-type']).toBe('USER');
    expect(h['x-keyward-principal-id']).toBe(k.admin.userId);
    expect(h['x-keyward-principal-identifier']).toBe(k.admin.userId);
    expect(h['x-keyward-account-id']).toBe(k.admin.accountId);
    expect(h['x-keyward-expires-at']).toBe(String(k.bootstrap.tokenRecord.validTo));

    // Authorization: Bearer works too, and a POST's body reaches the upstream whole (Keyward never saw it).
    const body = JSON.stringify({ hello: 'world' });
    const post = await call('/api/things', { method: 'POST', body, headers: { authorization: `Bearer ${k.admin.token}`, 'content-type': 'application/json' } });
    expect(post.status, post.text).toBe(200);
    expect(post.upstreamSaw).toMatchObject({ method: 'POST', body });
    expect(post.upstreamSaw!.headers['x-keyward-principal-id']).toBe(k.admin.userId);
  });

  it('answers 401 for no token, an invalid one and a revoked one, and the upstream sees nothing', async () => {
    const none = await call('/api/things');
    expect(none.status).toBe(401);
    expect(none.upstreamSaw).toBeNull();
    // nginx passes Keyward's WWW-Authenticate on to the client.
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="keyward"');

    const invalid = await call('/api/things', { headers: { 'x-api-key': 'pat.nope.nope.nope' } });
    expect(invalid.status).toBe(401);
    expect(invalid.upstreamSaw).toBeNull();

    const owner = { scope: makeScope(k.admin.accountId), type: 'USER' as const, parentIdentifier: k.admin.userId };
    const issued = await k.keyward.services.tokens.create(SYSTEM_CALLER, owner, { identifier: 'nginx_tok', name: 'nginx_tok', apiKeyIdentifier: 'nginx_key' }, { autoCreateKey: true });
    const before = await call('/api/things', { headers: { 'x-api-key': issued.secret } });
    expect(before.status).toBe(200);
    await k.keyward.services.tokens.delete(SYSTEM_CALLER, owner, 'nginx_key', 'nginx_tok');
    const after = await call('/api/things', { headers: { 'x-api-key': issued.secret } });
    expect(after.status).toBe(401);
    expect(after.upstreamSaw).toBeNull();
  });

  it('answers 403 where the location requires a permission the token lacks', async () => {
    const plain = await userWithToken(k, k.admin.accountId, `nginx-${kind}@example.com`);
    const denied = await call('/admin/users', { headers: { 'x-api-key': plain.token } });
    expect(denied.status).toBe(403);
    expect(denied.upstreamSaw).toBeNull();
    // The same token is fine where nothing is required, and a client's own requirement header is dropped.
    const open = await call('/api/things', { headers: { 'x-api-key': plain.token, 'x-keyward-require-permission': 'core_user_manage' } });
    expect(open.status).toBe(200);
    expect(open.upstreamSaw!.headers['x-keyward-principal-id']).toBe(plain.id);

    const admin = await call('/admin/users', { headers: { 'x-api-key': k.admin.token } });
    expect(admin.status).toBe(200);
    expect(admin.upstreamSaw!.headers['x-keyward-principal-id']).toBe(k.admin.userId);
  });
});
