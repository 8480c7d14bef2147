/** Shared bits for the benchmarks: timing, percentiles, tables, machine facts, throwaway stores. */
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../src/store/database.js';

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()} ${os.release()}`;
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
