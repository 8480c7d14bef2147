/**
 * ZenML 0.58.0's real Python client and CLI against Keyward (compatibility is what the real
 * client accepts). ZenML's source comes from ../shared/clients/zenml-0.58.0-src.tgz
 * and runs on Debian's /usr/bin/python3 with Debian's python3-* packages (their pins match 0.58).
 * The Python scripts in test/clients/zenml/ check every outcome themselves and exit non-zero on any
 * mismatch; this file checks that they passed, then checks a few facts again through Keyward's own API.
 *
 * Missing Python or packages: the block is skipped with one line on stderr, unless
 * KEYWARD_REQUIRE_CLIENTS=1 (CI), in which case it fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { sharedClients } from '../helpers/sharedClients.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const TARBALL = path.join(sharedClients(), 'zenml-0.58.0-src.tgz');
const SCRIPTS = path.join(here, 'zenml');
const STUBS = path.join(SCRIPTS, 'stubs');
const PYTHON = '/usr/bin/python3';

/** The modules ZenML 0.58's client and CLI import (Debian's python3-* packages). */
const MODULES = [
  'pydantic', 'sqlmodel', 'sqlalchemy', 'click', 'requests', 'yaml', 'rich', 'git', 'psutil', 'dateutil', 'passlib',
  'packaging', 'cloudpickle', 'distro', 'docker', 'alembic', 'bcrypt', 'pymysql', 'httplib2', 'sqlalchemy_utils',
  'pyparsing', 'validators', 'jwt', 'numpy', 'pandas',
];

/** What is missing to run the real client, or null when everything is there. */
function missingPrerequisite(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed`;
  if (!existsSync(TARBALL)) return `${TARBALL} is missing`;
  const probe = `import importlib, sys
missing = []
for m in ${JSON.stringify(MODULES)}:
    try:
        importlib.import_module(m)
    except Exception:
        missing.append(m)
import pydantic
if not pydantic.VERSION.startswith("1."):
    missing.append("pydantic 1.x (found " + pydantic.VERSION + ")")
print(" ".join(missing))`;
  const r = spawnSync(PYTHON, ['-c', probe], { encoding: 'utf8', timeout: 60_000, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
  if (r.status !== 0) return `${PYTHON} could not import its modules: ${r.stderr.trim().split('\n').pop() ?? ''}`;
  const missing = r.stdout.trim();
  return missing ? `Debian's Python packages are missing: ${missing}` : null;
}

const missing = missingPrerequisite();
if (missing) {
  if (process.env.KEYWARD_REQUIRE_CLIENTS === '1') {
    describe('ZenML 0.58.0 real client', () => {
      it('has its prerequisites', () => {
        throw new Error(`${missing} and KEYWARD_REQUIRE_CLIENTS=1 (see ../shared/clients/README.md)`);
      });
    });
  } else {
    process.stderr.write(`\n[keyward tests] SKIPPING the real ZenML client tests: ${missing} (see ../shared/clients/README.md; KEYWARD_REQUIRE_CLIENTS=1 makes this fail)\n\n`);
  }
}

interface PyRun {
  code: number | null;
  stdout: string;
  stderr: string;
  result: Record<string, string>;
}

const ADMIN_PASSWORD = 'zenml-client-test-password';
const PUBLIC_URL = 'https://keyward.example.test';

(missing ? describe.skip : describe)('ZenML 0.58.0 real client', () => {
  let zenmlSrc = '';
  let tmp = '';

  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'keyward-zenml-'));
    zenmlSrc = path.join(tmp, 'zenml');
    const r = spawnSync('mkdir', ['-p', zenmlSrc]);
    expect(r.status).toBe(0);
    const x = spawnSync('tar', ['xzf', TARBALL, '-C', zenmlSrc], { encoding: 'utf8' });
    expect(x.status, x.stderr).toBe(0);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs one script with a fresh HOME; `configDir` is the ZenML configuration it reads and writes. */
  function python(script: string, args: string[], configDir: string, env: Record<string, string>): Promise<PyRun> {
    const home = mkdtempSync(path.join(tmp, 'home-'));
    return new Promise((resolve, reject) => {
      const child = spawn(PYTHON, [path.join(SCRIPTS, script), ...args], {
        env: {
          PATH: '/usr/bin:/bin',
          LANG: 'C.UTF-8',
          HOME: home,
          PYTHONPATH: [path.join(zenmlSrc, 'src'), STUBS].join(':'),
          // Bytecode goes to the temp dir (shared by the runs, so zenml compiles once), never into the tree.
          PYTHONPYCACHEPREFIX: path.join(tmp, 'pycache'),
          ZENML_CONFIG_PATH: configDir,
          ZENML_ANALYTICS_OPT_IN: 'false',
          // Keyward reports KEYWARD_ZENML_SERVER_VERSION (0.84.0 by default); the warning is noise here.
          ZENML_DISABLE_CLIENT_SERVER_MISMATCH_WARNING: 'True',
          COLUMNS: '200', // rich would wrap the CLI's tables and key values at 80
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
        resolve({ code, stdout, stderr, result: line ? (JSON.parse(line.slice(7)) as Record<string, string>) : {} });
      });
    });
  }

  /** The failures a script printed, or its last lines when it died another way. */
  const explain = (r: PyRun) => {
    const fails = r.stderr.split('\n').filter((l) => l.startsWith('FAIL: ') || l.startsWith('  - '));
    return fails.length ? fails.join('\n') : r.stderr.split('\n').slice(-40).join('\n');
  };

  describeEachDb('ZenML 0.58.0 Python client and CLI', (kind) => {
    let k: TestKeyward;
    let env: Record<string, string>;
    let api: PyRun;
    let cliKey: PyRun;
    let cliPassword: PyRun;
    const verify = async (token: string) => (await k.anon.post('/v1/verify', { token })).body as { valid: boolean; reason?: string };

    beforeAll(async () => {
      k = await startKeyward(kind, { config: { bootstrapPassword: ADMIN_PASSWORD, publicUrl: PUBLIC_URL } });
      // The service account the client and the CLI log in as, made through ZenML's API with the
      // admin's Keyward token and given the account admin role through Harness's role assignments.
      const z = (p: string) => `/api/v1${p}`;
      const sa = await k.http.post(z('/service_accounts'), { name: 'zk-admin', active: true });
      expect(sa.status, sa.text).toBe(200);
      const key = await k.http.post(z(`/service_accounts/${sa.body.id}/api_keys`), { name: 'ci' });
      expect(key.status, key.text).toBe(200);
      const ra = await k.http.post(
        '/authz/api/roleassignments',
        {
          identifier: 'zk_admin_admin',
          resourceGroupIdentifier: '_all_account_level_resources',
          roleIdentifier: '_account_admin',
          // A ZenML-made service account's Keyward identifier: sa_ + its UUID's hex.
          principal: { identifier: `sa_${(sa.body.id as string).replace(/-/g, '')}`, type: 'SERVICE_ACCOUNT' },
        },
        { query: { accountIdentifier: k.admin.accountId } },
      );
      expect(ra.status, ra.text).toBe(200);
      env = {
        KEYWARD_URL: k.url.replace(/\/$/, ''),
        ZK_ADMIN_EMAIL: k.admin.email,
        ZK_ADMIN_PASSWORD: ADMIN_PASSWORD,
        ZK_ADMIN_TOKEN: k.admin.token,
        ZK_ADMIN_SA: 'zk-admin',
        ZK_ADMIN_KEY: key.body.body.key,
        ZK_PUBLIC_URL: PUBLIC_URL,
      };
      // The Python API and the CLI's first phase touch different accounts: run them side by side.
      const apiDir = mkdtempSync(path.join(tmp, `api-${kind}-`));
      const cliDir = mkdtempSync(path.join(tmp, `cli-${kind}-`));
      [api, cliKey] = await Promise.all([
        python('client_api.py', [], apiDir, { ...env, ZENML_STORE_URL: env.KEYWARD_URL!, ZENML_STORE_API_KEY: env.ZK_ADMIN_KEY! }),
        python('cli.py', ['apikey'], cliDir, env),
      ]);
      cliPassword = await python('cli.py', ['password'], cliDir, { ...env, ZK_CLI_DEFAULT_KEY: cliKey.result.cli_default_key ?? '' });
    }, 420_000);
    afterAll(async () => k?.close());

    it('RestZenStore and Client() from ZENML_STORE_URL + ZENML_STORE_API_KEY: the whole service-account and API-key life cycle', () => {
      expect(api.code, explain(api)).toBe(0);
      expect(api.stderr).toContain('all checks passed');
    });

    it('the CLI from a fresh configuration: zenml connect --api-key, then every service-account and api-key command', () => {
      expect(cliKey.code, explain(cliKey)).toBe(0);
      expect(cliKey.stderr).toContain('all checks passed');
    });

    it('the CLI in a new process: the stored connection, a role-less key, then zenml connect --username --password', () => {
      expect(cliPassword.code, explain(cliPassword)).toBe(0);
      expect(cliPassword.stderr).toContain('all checks passed');
    });

    it('what the client did holds in Keyward: deleted and replaced values are refused, retained ones end with their period', async () => {
      const r = { ...api.result, ...cliKey.result };
      for (const name of ['k1_original', 'k1_previous', 'k1_current', 'k2_deleted', 'cli_default_key', 'cli_second_old', 'cli_second_new', 'cli_third_deleted']) {
        expect(r[name], `${name} reported by the scripts`).toMatch(/^ZENKEY_/);
      }
      expect((await verify(r.k1_original!)).valid).toBe(false); // replaced by two rotations
      expect((await verify(r.k2_deleted!)).valid).toBe(false);
      expect((await verify(r.cli_third_deleted!)).valid).toBe(false);
      for (const live of [r.k1_previous!, r.k1_current!, r.cli_default_key!, r.cli_second_old!, r.cli_second_new!]) expect((await verify(live)).valid).toBe(true);

      // k1 was rotated with a 1-minute retain period, second2 with 5 minutes (`--retain 5`).
      k.clock.advance(61_000);
      expect((await verify(r.k1_previous!)).valid).toBe(false);
      expect((await verify(r.cli_second_old!)).valid).toBe(true);
      k.clock.advance(5 * 60_000);
      expect((await verify(r.cli_second_old!)).valid).toBe(false);
      expect((await verify(r.k1_current!)).valid).toBe(true);
      expect((await verify(r.cli_second_new!)).valid).toBe(true);
    });

    it('the audit log names the service account that made the changes through the client', async () => {
      const sa = await k.http.get('/api/v1/service_accounts/zk-admin');
      const audit = await k.http.get(`/v1/accounts/${k.admin.accountId}/audit`, { query: { action: 'apikey.rotate', limit: 100 } });
      expect(audit.status, audit.text).toBe(200);
      const rotations = (audit.body.items as Array<{ actorType: string; actorId: string }>).filter((e) => e.actorType === 'SERVICE_ACCOUNT' && e.actorId === sa.body.id);
      expect(rotations.length).toBeGreaterThanOrEqual(3); // k1 twice (Python API), second2 once (CLI)
    });
  });
});
