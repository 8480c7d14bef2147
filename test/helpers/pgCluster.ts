/**
 * A throwaway PostgreSQL cluster of our own (never the shared server on 5432), for outage tests and
 * the outage benchmark: made with the installed server binaries on a free port, and stopped,
 * started and killed at will. As root (initdb refuses root) the binaries run as `postgres`.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PgCluster {
  url: string;
  port: number;
  /** `pg_ctl stop -m fast` (connections are told to end) or `-m immediate` (every server process killed, crash recovery at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster (if running) and deletes its files. */
  destroy(): void;
}

export function serverBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(path.join(root, v, 'bin', 'initdb'))) return path.join(root, v, 'bin');
  return null;
}

/** initdb refuses to run as root: as root, the server binaries run as the `postgres` user. */
export function runAsServerUser(bin: string, args: string[]): void {
  const isRoot = process.getuid?.() === 0;
  const res = isRoot ? spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' }) : spawnSync(bin, args, { stdio: 'pipe' });
  if (res.status !== 0) throw new Error(`${path.basename(bin)} ${args.join(' ')} failed: ${res.stderr?.toString() ?? ''}`);
}

/** The same, without blocking the event loop (the Keyward under test keeps serving meanwhile). */
function runAsync(bin: string, args: string[]): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, (err, _out, stderr) => (err ? reject(new Error(`${path.basename(bin)} ${args.join(' ')} failed: ${stderr}`)) : resolve()));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A new cluster, started; null when the server binaries are not installed. */
export async function createCluster(): Promise<PgCluster | null> {
  const bin = serverBinDir();
  if (!bin) return null;
  const dir = mkdtempSync(path.join(tmpdir(), 'keyward-outage-pg-'));
  chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const port = await freePort();
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  runAsServerUser(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  let running = false;
  const start = async () => {
    // fsync off: a test cluster, and `-m immediate` then restarts quickly.
    await runAsync(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`, '-w', '-t', '30', 'start']);
    running = true;
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop(mode = 'fast') {
      await runAsync(path.join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', 'stop']);
      running = false;
    },
    start,
    destroy() {
      try {
        if (running) runAsServerUser(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
