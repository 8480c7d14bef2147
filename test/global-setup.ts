/**
 * Finds a PostgreSQL for the store tests: KEYWARD_TEST_DATABASE_URL, else the local server on
 * 127.0.0.1:5432, else a throwaway cluster made with the installed server binaries. When none is
 * reachable the PostgreSQL tests are skipped with one loud line, unless KEYWARD_REQUIRE_POSTGRES=1,
 * in which case the run fails.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { freePort, runAsServerUser, serverBinDir } from './helpers/pgCluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function throwawayCluster(): Promise<{ url: string; stop: () => void } | null> {
  const bin = serverBinDir();
  if (!bin) return null;
  const dir = mkdtempSync(path.join(tmpdir(), 'keyward-pg-'));
  chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const port = await freePort();
  try {
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
    runAsServerUser(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    runAsServerUser(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-w', 'start']);
  } catch (e) {
    process.stderr.write(`[keyward tests] could not start a throwaway PostgreSQL: ${(e as Error).message}\n`);
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        runAsServerUser(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export default async function setup(project: TestProject) {
  // `npm run test:fast`: SQLite only, nothing to build (its files run neither dist/ nor the console).
  if (process.env.KEYWARD_TEST_FAST === '1') {
    process.stderr.write('[keyward tests] test:fast: SQLite only; `npm test` runs PostgreSQL, the CLI, processes and the browser too\n');
    project.provide('pgUrl', null);
    return;
  }
  // Tests that start Keyward as a process (CLI, two nodes, shutdown) run dist/: build it from the current source.
  execFileSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  // The browser tests (test/e2e) use the console the server serves from dist/web: build it from web/ too.
  execFileSync(process.execPath, [path.resolve('node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    stdio: 'inherit',
    // vitest sets NODE_ENV=test, which would bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let url: string | null = null;
  let stop: (() => void) | null = null;
  const candidates = [process.env.KEYWARD_TEST_DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/postgres'].filter((u): u is string => !!u);
  for (const c of candidates) {
    if (await reachable(c)) {
      url = c;
      break;
    }
  }
  if (!url) {
    const cluster = await throwawayCluster();
    if (cluster && (await reachable(cluster.url))) {
      url = cluster.url;
      stop = cluster.stop;
    }
  }
  if (!url) {
    const msg = '!!!!! PostgreSQL NOT AVAILABLE: every PostgreSQL store test is SKIPPED (set KEYWARD_TEST_DATABASE_URL) !!!!!';
    if (process.env.KEYWARD_REQUIRE_POSTGRES === '1') throw new Error(`${msg} and KEYWARD_REQUIRE_POSTGRES=1`);
    process.stderr.write(`\n${msg}\n\n`);
  }
  project.provide('pgUrl', url);
  return () => stop?.();
}
