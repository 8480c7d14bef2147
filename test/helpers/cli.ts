/**
 * Runs the built `keyward` command (dist/cli/main.js, which the global setup builds from the current
 * source before any test file runs) as a real child process, for the CLI and process tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { dropSchema } from './databases.js';
import { urlWithSchema } from './process.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_MAIN = path.join(REPO, 'dist', 'cli', 'main.js');

function main(): string {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: the global setup builds it (npm run build)`);
  return CLI_MAIN;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** An environment without any KEYWARD_* variable of the test runner's, plus `env`. */
export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYWARD_')) clean[k] = v;
  return { ...clean, ...env };
}

/** Runs the command to completion. */
export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const child = spawn(process.execPath, [main(), ...args], { env: cliEnv(opts.env), cwd: opts.cwd ?? tmpdir(), stdio: [stdin, 'pipe', 'pipe'] });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** JSON log lines written so far. */
  logs(): Array<Record<string, unknown>>;
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `keyward serve --port 0 ...` and resolves once it logs "keyward listening" with its address. */
export function startServer(args: string[], opts: { env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [main(), 'serve', '--port', '0', ...args], { env: cliEnv(opts.env), cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const logs = (): Array<Record<string, unknown>> =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  return new Promise((resolve, reject) => {
    const onData = () => {
      const listening = logs().find((l) => l.msg === 'keyward listening');
      if (listening) {
        child.stdout.off('data', onData);
        resolve({
          child,
          url: String(listening.address),
          stdout: () => out,
          stderr: () => err,
          logs,
          async stop(signal: NodeJS.Signals = 'SIGTERM') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      onData();
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
    void exited.then(({ code, signal }) => reject(new Error(`keyward serve exited (${code ?? signal}) before listening:\n${out}\n${err}`)));
  });
}

/** A new, empty PostgreSQL schema and a URL whose connections use it, for `--database-url`. */
export async function pgSchemaUrl(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `kw_test_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(`create schema ${schema}`);
  } finally {
    await c.end();
  }
  return { url: urlWithSchema(base, schema), drop: () => dropSchema(base, schema) };
}
