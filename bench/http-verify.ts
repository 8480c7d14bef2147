/**
 * Verification over HTTP, route by route: the forward-auth `GET /v1/verify` (token in X-Api-Key, no
 * body), `POST /v1/verify` (the full answer), an authenticated Harness NG read
 * (`GET /ng/api/apikey/aggregate/<id>`) and `GET /healthz`, on a real `keyward serve` process
 * (SQLite), each against a bare node:http server doing the same minimum work on the same route
 * (bench/bare-server.ts), driven by the same load generator in the same run: wrk (C, one thread,
 * so the generator takes one core and the server the other) when it is on the PATH, else
 * autocannon (JavaScript, in this process).
 *   npm run bench:http
 * Env: BENCH_SECONDS (per run, default 8), BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 3),
 *      BENCH_LOADGEN (wrk or autocannon; default wrk when installed), BENCH_KEYWARD_ROOT (run another
 *      checkout's Keyward, e.g. main's, against the same bare server), BENCH_SKIP_INFO=1 (skip the
 *      log-level info run), BENCH_KEYWARD_NODE_ARGS / BENCH_BARE_NODE_ARGS (node flags for either
 *      server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 * Ratios are the median of per-round ratios (each Keyward run against the bare run just before it).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { buildDist, fmt, freePort, hasWrk, keywardRunsFrom, machine, median, percentile, request, startKeyward, startServer, table, tmpDir, type ServerProcess } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOKENS = 100;
const LOADGEN = process.env.BENCH_LOADGEN ?? (hasWrk ? 'wrk' : 'autocannon');
let scriptDir = '';

interface Load {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  /** The server process's CPU time (user + system) per request, in microseconds, when known. */
  cpuUs: number;
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux; NaN elsewhere). On a
 * machine shared with other work, throughput moves with what the neighbours do; CPU time per
 * request moves much less, so each run reports both.
 */
function cpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** One wrk run (one thread, CONNECTIONS connections) cycling through `requests`; latencies from wrk's histogram. */
function loadWrk(url: string, requests: autocannon.Request[], seconds: number): Load {
  const lua = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const items = requests
    .map((r) => `{${lua(r.method ?? 'GET')}, ${lua(r.path ?? '/')}, {${Object.entries(r.headers ?? {}).map(([k, v]) => `[${lua(k)}] = ${lua(String(v))}`).join(', ')}}, ${r.body === undefined ? 'nil' : lua(String(r.body))}}`)
    .join(',\n');
  const script = path.join(scriptDir, `load-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(
    script,
    `local reqs = {\n${items}\n}
local i = 0
request = function()
  i = i + 1
  local r = reqs[(i % #reqs) + 1]
  return wrk.format(r[1], r[2], r[3], r[4])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKJSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"errors\\":%d,\\"non2xx\\":%d,\\"p50\\":%f,\\"p99\\":%f}\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
`,
  );
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url], { encoding: 'utf8' });
  const m = /WRKJSON (\{.*\})/.exec(out);
  if (!m) throw new Error(`wrk printed no summary:\n${out}`);
  const r = JSON.parse(m[1]!) as { requests: number; duration_us: number; errors: number; non2xx: number; p50: number; p99: number };
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`load on ${url}: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
  return { reqPerSec: r.requests / (r.duration_us / 1e6), p50: r.p50 / 1000, p99: r.p99 / 1000, requests: r.requests, cpuUs: NaN };
}

/** One autocannon run; latencies are recorded per response (ms, fractional), not autocannon's 1 ms buckets. */
async function load(url: string, requests: autocannon.Request[], seconds: number): Promise<Load> {
  if (LOADGEN === 'wrk') return loadWrk(url, requests, seconds);
  const latencies = new Float64Array(5_000_000);
  let n = 0;
  const inst = autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1, timeout: 10, requests });
  inst.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    if (n < latencies.length) latencies[n++] = ms;
  });
  const r = await inst;
  if (r.errors > 0 || r.timeouts > 0 || r.non2xx > 0) {
    throw new Error(`load on ${url}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx answers`);
  }
  const sorted = latencies.subarray(0, n).sort();
  return { reqPerSec: r.requests.total / r.duration, p50: percentile(sorted, 50), p99: percentile(sorted, 99), requests: r.requests.total, cpuUs: NaN };
}

/** `load` on a server process, with the CPU time it spent per request. */
async function loadOn(server: ServerProcess, requests: autocannon.Request[], seconds: number): Promise<Load> {
  const before = cpuMs(server.child.pid);
  const l = await load(server.url, requests, seconds);
  return { ...l, cpuUs: ((cpuMs(server.child.pid) - before) * 1000) / l.requests };
}

function mean(xs: Load[]): Load {
  const m = (f: (l: Load) => number) => xs.reduce((s, l) => s + f(l), 0) / xs.length;
  return { reqPerSec: m((l) => l.reqPerSec), p50: m((l) => l.p50), p99: m((l) => l.p99), requests: m((l) => l.requests), cpuUs: m((l) => l.cpuUs) };
}

async function main() {
  console.log(`Machine: ${machine()}`);
  const gen = LOADGEN === 'wrk' ? 'wrk 1 thread' : 'autocannon';
  console.log(`${gen}: ${CONNECTIONS} connections, pipelining 1, ${SECONDS} s per run, ${ROUNDS} rounds alternating the servers; ${TOKENS} distinct tokens round-robin.`);
  buildDist();
  console.log(`Keyward runs from ${keywardRunsFrom()}.`);
  const tmp = tmpDir('keyward-bench-http-');
  scriptDir = tmp.dir;
  const servers: ServerProcess[] = [];
  try {
    // Keyward: SQLite in a temp folder; request logs off (they are on at info: two JSON lines per request).
    const env = { KEYWARD_MAX_TOKENS_PER_API_KEY: '1000' };
    const kw = await startKeyward(['--data-dir', path.join(tmp.dir, 'data')], env);
    servers.push(kw);
    const admin = kw.bootstrapToken;
    if (!admin) throw new Error(`keyward printed no bootstrap token:\n${kw.stdout()}`);
    kw.forgetOutput();
    const who = (await request('POST', `${kw.url}/v1/verify`, { body: { token: admin } })).body as { accountId: string; principal: { identifier: string } };
    const account = who.accountId;
    const userId = who.principal.identifier;

    const tokens: string[] = [];
    for (let i = 0; i < TOKENS; i++) {
      const r = await request('POST', `${kw.url}/ng/api/token?accountIdentifier=${account}`, {
        headers: { 'x-api-key': admin },
        body: { identifier: `b${i}`, name: `b${i}`, apiKeyType: 'USER', parentIdentifier: userId, apiKeyIdentifier: 'bench', accountIdentifier: account },
      });
      if (r.status !== 200) throw new Error(`token create: ${r.status} ${JSON.stringify(r.body)}`);
      tokens.push((r.body as { data: string }).data);
    }
    const getPath = `/ng/api/apikey/aggregate/bench?accountIdentifier=${account}&apiKeyType=USER&parentIdentifier=${encodeURIComponent(userId)}`;
    const verifyAnswer = (await request('POST', `${kw.url}/v1/verify`, { body: { token: tokens[0] } })).body as Record<string, unknown>;
    const leanAnswer = (await request('GET', `${kw.url}/v1/verify`, { headers: { 'x-api-key': tokens[0]! } })).body as Record<string, unknown>;
    const getAnswer = await request('GET', kw.url + getPath, { headers: { 'x-api-key': tokens[0]! } });
    if (verifyAnswer.valid !== true || leanAnswer.valid !== true || getAnswer.status !== 200) throw new Error(`keyward answered ${JSON.stringify(verifyAnswer)} / ${JSON.stringify(leanAnswer)} / ${getAnswer.status}`);

    const setupFile = path.join(tmp.dir, 'bare.json');
    writeFileSync(setupFile, JSON.stringify({ tokens, verifyAnswer, leanAnswer, getAnswer: getAnswer.body }));
    const barePort = await freePort();
    // BENCH_BARE_NODE_ARGS: node flags for the bare server only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof-bare").
    const bareArgs = (process.env.BENCH_BARE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const bare = await startServer([...bareArgs, '--import', 'tsx', path.resolve('bench/bare-server.ts'), setupFile, String(barePort)], barePort);
    servers.push(bare);
    const check = await request('POST', `${bare.url}/v1/verify`, { body: { token: tokens[0] } });
    if ((check.body as { valid?: boolean }).valid !== true) throw new Error('bare server does not verify');

    const verifyReqs: autocannon.Request[] = tokens.map((token) => ({
      method: 'POST',
      path: '/v1/verify',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    }));
    const getReqs: autocannon.Request[] = tokens.map((token) => ({ method: 'GET', path: getPath, headers: { 'x-api-key': token } }));
    // The forward-auth shape: the token in X-Api-Key, no body.
    const leanReqs: autocannon.Request[] = tokens.map((token) => ({ method: 'GET', path: '/v1/verify', headers: { 'x-api-key': token } }));
    const healthReqs: autocannon.Request[] = [{ method: 'GET', path: '/healthz' }];

    /** Each case: its requests, run on the bare server then on Keyward, round after round. */
    const allCases = [
      { name: 'GET /v1/verify', reqs: leanReqs },
      { name: 'POST /v1/verify', reqs: verifyReqs },
      { name: 'GET /ng/api/apikey/aggregate/<id>', reqs: getReqs },
      { name: 'GET /healthz', reqs: healthReqs },
    ];
    // BENCH_CASES: a comma-separated subset of the case names (e.g. to profile one route).
    const only = process.env.BENCH_CASES?.split(',').map((x) => x.trim());
    const cases = only ? allCases.filter((c) => only.includes(c.name)) : allCases;
    // Warm both (JIT, caches), then alternate so that a noisy neighbour hits both alike.
    for (const s of [bare, kw]) for (const c of cases) await load(s.url, c.reqs, 2);
    const runs = cases.map(() => ({ bare: [] as Load[], kw: [] as Load[] }));
    for (let r = 0; r < ROUNDS; r++) {
      for (let c = 0; c < cases.length; c++) {
        runs[c]!.bare.push(await loadOn(bare, cases[c]!.reqs, SECONDS));
        runs[c]!.kw.push(await loadOn(kw, cases[c]!.reqs, SECONDS));
      }
    }

    // The cost of request logging: the same Keyward at the default level (info), once.
    let infoRows: Array<Array<string>> = [];
    const row = (name: string, l: Load, base: Load, ratio: number, cpuRatio: number) => [name, fmt(l.reqPerSec), ratio.toFixed(2), fmt(l.cpuUs, 1), cpuRatio.toFixed(2), fmt(l.p50, 2), fmt(l.p99, 2), (l.p99 / base.p99).toFixed(2)];
    if (process.env.BENCH_SKIP_INFO !== '1') {
      await kw.stop();
      const kwInfo = await startKeyward(['--data-dir', path.join(tmp.dir, 'data')], { ...env, KEYWARD_LOG_LEVEL: 'info' });
      servers.push(kwInfo);
      kwInfo.forgetOutput();
      await load(kwInfo.url, verifyReqs, 2);
      const bareAgain = await loadOn(bare, verifyReqs, SECONDS);
      const info = await loadOn(kwInfo, verifyReqs, SECONDS);
      infoRows = [row('bare node:http POST /v1/verify (baseline)', bareAgain, bareAgain, 1, 1), row('keyward POST /v1/verify, KEYWARD_LOG_LEVEL=info', info, bareAgain, info.reqPerSec / bareAgain.reqPerSec, bareAgain.cpuUs / info.cpuUs)];
    }

    const ratioOf = (c: number) => median(runs[c]!.kw.map((l, r) => l.reqPerSec / runs[c]!.bare[r]!.reqPerSec));
    /** Bare CPU per request over Keyward's: the throughput ratio the two would have with a core each to themselves. */
    const cpuRatioOf = (c: number) => median(runs[c]!.kw.map((l, r) => runs[c]!.bare[r]!.cpuUs / l.cpuUs));
    const rows: Array<Array<string>> = [];
    for (let c = 0; c < cases.length; c++) {
      const b = mean(runs[c]!.bare);
      const k = mean(runs[c]!.kw);
      rows.push(row(`bare node:http ${cases[c]!.name} (baseline)`, b, b, 1, 1));
      rows.push(row(`keyward ${cases[c]!.name}`, k, b, ratioOf(c), cpuRatioOf(c)));
    }
    table(
      `HTTP, route by route, ${CONNECTIONS} connections (mean of ${ROUNDS} runs of ${SECONDS} s each; x bare: median of per-round ratios)`,
      ['case', 'req/s', 'x bare', 'CPU us/req', 'x bare by CPU', 'p50 ms', 'p99 ms', 'p99 x bare'],
      rows,
    );
    if (infoRows.length > 0) table(`Request logging: keyward at log level info (one run of ${SECONDS} s, against a bare run just before)`, ['case', 'req/s', 'x bare', 'CPU us/req', 'x bare by CPU', 'p50 ms', 'p99 ms', 'p99 x bare'], infoRows);
    console.log('\nPer-round ratios (keyward / bare):');
    for (let c = 0; c < cases.length; c++) {
      console.log(`  ${cases[c]!.name}: throughput ${runs[c]!.kw.map((l, r) => (l.reqPerSec / runs[c]!.bare[r]!.reqPerSec).toFixed(2)).join(', ')}; by CPU ${runs[c]!.kw.map((l, r) => (runs[c]!.bare[r]!.cpuUs / l.cpuUs).toFixed(2)).join(', ')} (bare req/s ${runs[c]!.bare.map((l) => fmt(l.reqPerSec)).join(', ')})`);
    }
    const targets: Record<string, number> = { 'GET /v1/verify': 0.8, 'POST /v1/verify': 0.8, 'GET /ng/api/apikey/aggregate/<id>': 0.5 };
    console.log('\nTargets:');
    for (let c = 0; c < cases.length; c++) {
      const t = targets[cases[c]!.name];
      if (t !== undefined) console.log(`  ${cases[c]!.name} >= ${t}x bare: throughput ${ratioOf(c).toFixed(2)}x (${ratioOf(c) >= t ? 'met' : 'MISSED'}), by CPU per request ${cpuRatioOf(c).toFixed(2)}x (${cpuRatioOf(c) >= t ? 'met' : 'MISSED'})`);
    }
  } finally {
    for (const s of servers) await s.stop();
    tmp.remove();
  }
}

await main();
