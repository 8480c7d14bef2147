/** Shared bits for the benchmarks: timing, percentiles, tables, machine facts, throwaway stores. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../src/store/database.js';
import { digestSecretString, digestStringsEqual } from '../src/domain/tokens.js';

/** Whether wrk is on the PATH (the HTTP benchmarks' load generator; else autocannon). */
export const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
    return (e as { code?: string }).code !== 'ENOENT';
  }
})();

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()} ${os.release()}`;
}

/**
 * The baseline under any in-process verifier: one SHA-256 of the secret and one Map lookup (over
 * `count` distinct tokens, round-robin); used by bench/verify-inprocess.ts and bench/sdk.ts.
 */
export function shaMapBaseline(count: number): { baseline: () => boolean; shaOnly: () => string; secrets: readonly string[] } {
  // What any verifier must do at least: one SHA-256 of the secret, one Map lookup and a constant-time
  // compare, in the fastest form Node offers (the digest as a latin1 string: Node's one-shot hash
  // returns a string 3 to 4 times faster than a Buffer).
  const map = new Map<string, string>();
  const secrets: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = `pat.acc.${i.toString(16).padStart(24, '0')}.abcdefghijklmnopqrst`;
    secrets.push(s);
    map.set(s.slice(8, 32), digestSecretString(s.slice(33)));
  }
  let j = 0;
  let k = 0;
  return {
    baseline: () => {
      const s = secrets[j++ % count]!;
      const d = digestSecretString(s.slice(33));
      return digestStringsEqual(map.get(s.slice(8, 32))!, d);
    },
    // The floor under any verifier that does not keep plaintext tokens: the SHA-256 alone.
    shaOnly: () => digestSecretString(secrets[k++ % count]!.slice(33)),
    secrets,
  };
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function table(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`);
  for (const r of rows) console.log(line(r.map(String)));
}

export function pgUrl(): string | null {
  return process.env.KEYWARD_BENCH_DATABASE_URL ?? process.env.KEYWARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: pgUrl()!, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface BenchStore {
  store: Store;
  cleanup(): Promise<void>;
}

export async function benchStore(kind: 'sqlite' | 'postgres'): Promise<BenchStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-bench-'));
    const store = await openStore({ sqliteFile: path.join(dir, 'keyward.db') });
    await store.migrate();
    return {
      store,
      async cleanup() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `kw_bench_${randomBytes(5).toString('hex')}`;
  const store = await openStore({ databaseUrl: pgUrl()!, pgSchema: schema, poolSize: 10 });
  await store.migrate();
  return {
    store,
    async cleanup() {
      await store.close();
      const c = new pg.Client({ connectionString: pgUrl()! });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

/** Runs `fn` repeatedly for `ms`, timing each call; returns ops/s and the latency distribution in microseconds. */
export async function measure(fn: () => unknown, ms: number, maxSamples = 2_000_000): Promise<{ opsPerSec: number; p50: number; p99: number; n: number }> {
  const samples = new Float64Array(maxSamples);
  let n = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  while (performance.now() < end && n < maxSamples) {
    const t0 = process.hrtime.bigint();
    const r = fn();
    if (r instanceof Promise) await r;
    samples[n++] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const elapsed = (performance.now() - start) / 1000;
  const sorted = samples.subarray(0, n).sort();
  return { opsPerSec: n / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), n };
}

/** Throughput without per-call timing (no hrtime overhead): calls `fn` in a tight loop for `ms`. */
export async function throughput(fn: () => unknown, ms: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    n += 1000;
  }
  return n / ((performance.now() - start) / 1000);
}

/**
 * Throughput of several functions measured in alternation: `rounds` rounds, each giving every
 * function one slice of `totalMs / rounds / fns.length`, so that load drifting on a shared machine
 * hits them alike. Answers each function's median ops/s and its median per-round ratio to fns[0].
 */
export async function interleaved(fns: Array<() => unknown>, totalMs: number, rounds = 6): Promise<Array<{ ops: number; ratio: number }>> {
  const slice = Math.max(100, totalMs / rounds / fns.length);
  const ops: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) for (let f = 0; f < fns.length; f++) ops[f]!.push(await throughput(fns[f]!, slice));
  return fns.map((_, f) => ({ ops: median(ops[f]!), ratio: median(ops[f]!.map((o, r) => o / ops[0]![r]!)) }));
}

// ---------------------------------------------------------------------------------------------
// Processes and HTTP, for the benchmarks that run servers (http-verify, revocation).

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function tmpDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * How the benchmarks start `keyward serve`. By default from source through tsx (the same code
 * transpiled on load, no build step, and no race with test runs rebuilding dist/ in a shared
 * tree); BENCH_FROM_DIST=1 compiles src/ into dist/ first and runs what `npm start` runs
 * (BENCH_SKIP_BUILD=1 then keeps the dist/ there is).
 */
const FROM_DIST = process.env.BENCH_FROM_DIST === '1';
/** BENCH_KEYWARD_ROOT: another checkout whose Keyward to run (e.g. main's, for a before/after comparison in one run). */
const ROOT = path.resolve(process.env.BENCH_KEYWARD_ROOT ?? '.');

export function buildDist(): void {
  if (!FROM_DIST || process.env.BENCH_SKIP_BUILD === '1') return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}

/**
 * The node flags `npm start` gives Keyward (package.json's start script, the words before its script),
 * so that a benchmark's Keyward process runs as a started one does (docs/operations.md, "Memory: the young generation").
 */
export const START_FLAGS: string[] = (() => {
  const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  const words = start.split(/\s+/);
  return words[0] === 'node' ? words.slice(1, words.findIndex((w, i) => i > 0 && !w.startsWith('--'))) : [];
})();

export const CLI: string[] = FROM_DIST ? [path.join(ROOT, 'dist/cli/main.js')] : ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];

export function keywardRunsFrom(): string {
  const where = ROOT === path.resolve('.') ? '' : ` of ${ROOT}`;
  return FROM_DIST ? `dist/${where} (BENCH_FROM_DIST=1)` : `src/${where} through tsx (set BENCH_FROM_DIST=1 for dist/)`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export interface HttpAnswer {
  status: number;
  body: any;
}

/** One request over a keep-alive connection; JSON in, JSON (or text) out. Times out after `timeoutMs`. */
export function request(method: string, url: string, opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { ...opts.headers };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const req = http.request(url, { method, headers, agent, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        if ((res.headers['content-type'] ?? '').includes('json') && text !== '') body = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** What the process printed on stdout (kept only until `forgetOutput`, so a long run does not grow it). */
  stdout(): string;
  forgetOutput(): void;
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` listening on `port`, and waits until GET `readyPath` answers (bounded).
 * stdout is read (and, after `forgetOutput`, dropped) so that a chatty server never blocks on a full pipe.
 */
export async function startServer(nodeArgs: string[], port: number, env: Record<string, string> = {}, readyPath = '/healthz', timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, nodeArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let keep = true;
  child.stdout!.on('data', (d: Buffer) => {
    if (keep) out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    if (err.length < 100_000) err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}\n${err}`);
    try {
      const r = await request('GET', url + readyPath, { timeoutMs: 1000 });
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer ${readyPath} within ${timeoutMs} ms:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    stdout: () => out,
    forgetOutput() {
      keep = false;
      out = '';
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    },
  };
}

/** `keyward serve` from dist/ on a free port; returns it with the bootstrap token it printed (if it bootstrapped). */
export async function startKeyward(args: string[], env: Record<string, string> = {}): Promise<ServerProcess & { port: number; bootstrapToken: string | null }> {
  const port = await freePort();
  // BENCH_KEYWARD_NODE_ARGS: node flags for the Keyward processes only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"),
  // after the start script's own (START_FLAGS; a later flag wins).
  const nodeArgs = (process.env.BENCH_KEYWARD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const s = await startServer([...START_FLAGS, ...nodeArgs, ...CLI, 'serve', '--port', String(port), '--host', '127.0.0.1', ...args], port, { KEYWARD_LOG_LEVEL: 'warn', ...env });
  // The banner is written before the server listens; give the pipe a moment to deliver it.
  for (let i = 0; i < 50 && !/KEYWARD BOOTSTRAP/.test(s.stdout()) && !/token:/.test(s.stdout()); i++) await new Promise((r) => setTimeout(r, 20));
  const m = /^\s+token:\s+(\S+)/m.exec(s.stdout());
  return { ...s, port, bootstrapToken: m ? m[1]! : null };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return percentile(s, 50);
}
