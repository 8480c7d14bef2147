/** Starts `keyward serve` as a real process and reads what it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';

export const CLI = path.resolve('dist/cli/main.js');

export interface KeywardProcess {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  /** The bootstrap token, when this process bootstrapped the database. */
  bootstrapToken: string | null;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnKeyward(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<KeywardProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    env: { ...process.env, KEYWARD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keyward did not start in ${timeoutMs} ms:\n${out}\n${err}`)), timeoutMs);
    const check = () => {
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line) as { msg?: string; address?: string };
          if (j.msg === 'keyward listening' && j.address) {
            clearTimeout(timer);
            resolve(j.address);
            return;
          }
        } catch {
          // not a log line
        }
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`keyward exited with ${code}:\n${out}\n${err}`));
    });
  });
  const m = /token:\s+(\S+)/.exec(out);
  return {
    child,
    url,
    stdout: () => out,
    bootstrapToken: m ? m[1]! : null,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** A PostgreSQL URL whose connections use `schema` (created by the caller). */
export function urlWithSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/** Two `keyward serve` processes on one new PostgreSQL schema (A bootstraps it); the caller drops the schema. */
export async function spawnTwoNodes(url: string, schema: string, envB: Record<string, string> = {}): Promise<{ a: KeywardProcess; b: KeywardProcess }> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const dbUrl = urlWithSchema(url, schema);
  const a = await spawnKeyward(['--database-url', dbUrl]);
  const b = await spawnKeyward(['--database-url', dbUrl], envB);
  return { a, b };
}

