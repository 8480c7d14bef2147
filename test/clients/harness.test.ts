/**
 * Harness's real Go SDK (harness/harness-go-sdk at its 2026-08-21 commit, from
 * ../shared/clients/harness-go-sdk-src.tgz) against Keyward, unchanged: the NextGen client and the
 * CG client's UserClient, on `/` and on `/gateway`, on SQLite and PostgreSQL. The Go program
 * (test/clients/harness/main.go) decodes every 2xx body again, strictly, into the SDK's own types
 * and prints each failed check; here it must exit 0, and what it left behind is checked through
 * Keyward's own API.
 *
 * Needs Debian's golang-go and the golang-*-dev libraries the SDK imports (see
 * ../shared/clients/README.md). Without them the file is skipped with one line on stderr, unless
 * KEYWARD_REQUIRE_CLIENTS=1 (CI), where a missing prerequisite fails.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, type DbKind } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { repoRoot, sharedClients } from '../helpers/sharedClients.js';

const tarball = path.join(sharedClients(), 'harness-go-sdk-src.tgz');
const gocode = '/usr/share/gocode/src';
/** The Debian packages the SDK's imports come from. */
const LIBRARIES = [
  'github.com/hashicorp/go-retryablehttp',
  'github.com/hashicorp/go-cleanhttp',
  'golang.org/x/oauth2',
  'gopkg.in/yaml.v3',
  'github.com/sirupsen/logrus',
  'github.com/jinzhu/copier',
];

function missingPrerequisite(): string | null {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    return 'the `go` command (apt-get install golang-go)';
  }
  if (!existsSync(tarball)) return `the SDK source at ${tarball}`;
  for (const lib of LIBRARIES) if (!existsSync(path.join(gocode, lib))) return `${lib} in ${gocode} (Debian's golang-*-dev packages)`;
  return null;
}

const missing = missingPrerequisite();
const required = process.env.KEYWARD_REQUIRE_CLIENTS === '1';
if (missing && !required) process.stderr.write(`SKIPPED test/clients/harness.test.ts: Harness Go SDK check needs ${missing}\n`);

let gopath = '';
let binary = '';

beforeAll(async () => {
  if (missing) {
    if (required) throw new Error(`KEYWARD_REQUIRE_CLIENTS=1 and the Harness Go SDK check needs ${missing}`);
    return;
  }
  gopath = mkdtempSync(path.join(tmpdir(), 'keyward-gosdk-'));
  execFileSync('tar', ['xzf', tarball, '-C', gopath]);
  mkdirSync(path.join(gopath, 'src', 'keywardcheck'), { recursive: true });
  copyFileSync(path.join(repoRoot, 'test/clients/harness/main.go'), path.join(gopath, 'src', 'keywardcheck', 'main.go'));
  // Kept between runs (the SDK's nextgen package takes a minute to compile cold).
  const cache = path.join(tmpdir(), 'keyward-go-build-cache');
  mkdirSync(cache, { recursive: true });
  binary = path.join(gopath, 'keywardcheck');
  execFileSync('go', ['build', '-o', binary, './keywardcheck'], {
    cwd: path.join(gopath, 'src'),
    env: { ...process.env, GO111MODULE: 'off', GOPATH: `${gopath}:/usr/share/gocode`, GOCACHE: cache, GOFLAGS: '', CGO_ENABLED: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}, 600_000);

afterAll(() => {
  if (gopath) rmSync(gopath, { recursive: true, force: true });
});

interface RunResult {
  code: number;
  stdout: string;
  result: {
    ng: { org: string; serviceAccount: string; saKey: string; saToken: string; saTokenValue: string; userKey: string; userGroup: string; roleAssignment: string };
    cg: { user: string; userEmail: string; group: string; groupName: string; groupPermissions: string[] };
    ngCalls: number;
    cgCalls: number;
    checks: number;
    failures: number;
  } | null;
}

function runCheck(k: TestKeyward, endpoint: string, prefix: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      binary,
      ['-endpoint', endpoint, '-account', k.admin.accountId, '-token', k.admin.token, '-user', k.admin.userId, '-prefix', prefix, '-now', String(k.clock.now())],
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, HARNESS_ACCOUNT_ID: '', HARNESS_PLATFORM_API_KEY: '', HARNESS_API_KEY: '', HARNESS_ENDPOINT: '' } },
      (err, stdout) => {
        const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, result: line ? JSON.parse(line.slice('RESULT '.length)) : null });
      },
    );
  });
}

const maybe = missing && !required ? describe.skip : describe;

maybe('Harness Go SDK, NextGen and CG clients, unchanged', () => {
  describeEachDb('against Keyward', (kind: DbKind) => {
    let k: TestKeyward;
    beforeAll(async () => {
      k = await startKeyward(kind, { config: { masterKey: randomBytes(32).toString('base64') } });
    });
    afterAll(async () => {
      await k?.close();
    });

    for (const [where, suffix, prefix] of [['/', '', 'root'], ['/gateway', '/gateway', 'gw']] as const) {
      it(`every call the program makes on ${where} succeeds and decodes strictly into the SDK's types`, async () => {
        const run = await runCheck(k, `${k.url}${suffix}`, prefix);
        const failed = run.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
        expect(failed, run.stdout.slice(-4000)).toEqual([]);
        expect(run.code).toBe(0);
        const r = run.result!;
        expect(r.failures).toBe(0);
        expect(r.ngCalls).toBeGreaterThan(50);
        expect(r.cgCalls).toBeGreaterThanOrEqual(25);

        // What the NextGen client left in place is what Keyward's own API sees.
        const acc = k.admin.accountId;
        const sa = await k.http.get(`/ng/api/serviceaccount/aggregate/${r.ng.serviceAccount}`, { query: { accountIdentifier: acc } });
        expect(sa.status, sa.text).toBe(200);
        expect(sa.body.data.serviceAccount.name).toBe('Go SDK robot renamed');
        const verified = await k.anon.post('/v1/verify', { token: r.ng.saTokenValue });
        expect(verified.status, verified.text).toBe(200);
        expect(verified.body).toMatchObject({ valid: true });
        const gone = await k.http.get(`/ng/api/serviceaccount/aggregate/${prefix}_sa_gone`, { query: { accountIdentifier: acc } });
        // A missing service account is 400 INVALID_ARGUMENT, as Harness answers (docs/compat/harness-ng.md).
        expect([gone.status, gone.body.code]).toEqual([400, 'INVALID_ARGUMENT']);

        // The CG group's settings read back through GraphQL, and its account permissions are honoured:
        // a CG key in the group may manage user groups (MANAGE_USERS_AND_GROUPS) and CG keys (MANAGE_API_KEYS).
        expect(r.cg.groupPermissions).toEqual(['MANAGE_API_KEYS', 'MANAGE_USERS_AND_GROUPS']);
        const gql = (token: string | null, query: string, variables?: unknown) =>
          k.http.request('POST', `${suffix}/api/graphql`, { query: { accountId: acc }, body: { query, variables }, token });
        const group = await gql(k.admin.token, 'query($id: String!) { userGroup(userGroupId: $id) { name isSSOLinked users(limit: 10) { nodes { id } } } }', { id: r.cg.group });
        expect(group.body.data.userGroup).toEqual({ name: r.cg.groupName, isSSOLinked: true, users: { nodes: [{ id: r.cg.user }] } });
        const made = await k.http.post(`${suffix}/api/api-keys`, { name: `${prefix} cg key`, accountId: acc, userGroupIds: [r.cg.group] }, { query: { accountId: acc } });
        expect(made.status, made.text).toBe(200);
        const cgKey: string = made.body.resource.decryptedKey;
        const byKey = await gql(cgKey, 'mutation($i: CreateUserGroupInput!) { createUserGroup(input: $i) { userGroup { id } } }', { i: { name: `${prefix} made by a CG key` } });
        expect(byKey.body.errors, byKey.text).toBeUndefined();
        const keys = await gql(cgKey, '{ apiKeys(limit: 10) { nodes { name } } }');
        expect(keys.body.errors, keys.text).toBeUndefined();
        // MANAGE_DELEGATES, which the group no longer holds and Keyward has nothing for, grants nothing:
        // a key in a group with no honoured type may not.
        const bare = await gql(k.admin.token, 'mutation($i: CreateUserGroupInput!) { createUserGroup(input: $i) { userGroup { id } } }', { i: { name: `${prefix} delegates only`, permissions: { accountPermissions: { accountPermissionTypes: ['MANAGE_DELEGATES'] } } } });
        const bareGroup: string = bare.body.data.createUserGroup.userGroup.id;
        const bareKey = (await k.http.post(`${suffix}/api/api-keys`, { name: `${prefix} bare key`, accountId: acc, userGroupIds: [bareGroup] }, { query: { accountId: acc } })).body.resource.decryptedKey;
        const refused = await gql(bareKey, 'mutation($i: CreateUserGroupInput!) { createUserGroup(input: $i) { userGroup { id } } }', { i: { name: `${prefix} refused` } });
        expect(refused.body.errors[0].message).toBe('User not authorized.');
      });
    }
  });
});
