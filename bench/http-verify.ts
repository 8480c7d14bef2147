/**
 * Verification over HTTP: `POST /v1/verify`, the forward-auth `GET /v1/verify` (token in X-Api-Key, no
 * body) and an authenticated Harness NG read
 * (`GET /ng/api/apikey/aggregate/<id>`) on a real `keyward serve` process (SQLite), against a bare
 * node:http server doing the same minimum work (bench/bare-server.ts), driven by the same
 * load generator in the same run: wrk (C, one thread, so the generator takes one core and the
 * server the other) when it is on the PATH, else autocannon (JavaScript, in this process).
 *   npm run bench:http
 * Env: BENCH_SECONDS (per run, default 8), BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 3),
 *      BENCH_LOADGEN (wrk or autocannon; default wrk when installed).
 * Ratios are the median of per-round ratios (each Keyward run against the bare run just before it).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
}

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
  return { reqPerSec: r.requests / (r.duration_us / 1e6), p50: r.p50 / 1000, p99: r.p99 / 1000, requests: r.requests };
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
  return { reqPerSec: r.requests.total / r.duration, p50: percentile(sorted, 50), p99: percentile(sorted, 99), requests: r.requests.total };
}

function mean(xs: Load[]): Load {
  const m = (f: (l: Load) => number) => xs.reduce((s, l) => s + f(l), 0) / xs.length;
  return { reqPerSec: m((l) => l.reqPerSec), p50: m((l) => l.p50), p99: m((l) => l.p99), requests: m((l) => l.requests) };
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
    const getAnswer = await request('GET', kw.url + getPath, { headers: { 'x-api-key': tokens[0]! } });
    if (verifyAnswer.valid !== true || getAnswer.status !== 200) throw new Error(`keyward answered ${JSON.stringify(verifyAnswer)} / ${getAnswer.status}`);

    const setupFile = path.join(tmp.dir, 'bare.json');
    writeFileSync(setupFile, JSON.stringify({ tokens, verifyAnswer, getAnswer: getAnswer.body }));
    const barePort = await freePort();
    const bare = await startServer(['--import', 'tsx', path.resolve('bench/bare-server.ts'), setupFile, String(barePort)], barePort);
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
    // The forward-auth shape, compared with the bare server's POST verify (which parses a body it does not need).
    const leanReqs: autocannon.Request[] = tokens.map((token) => ({ method: 'GET', path: '/v1/verify', headers: { 'x-api-key': token } }));

    // Warm both (JIT, caches), then alternate so that a noisy neighbour hits both alike.
    for (const s of [bare, kw]) {
      await load(s.url, verifyReqs, 2);
      await load(s.url, getReqs, 2);
    }
    await load(kw.url, leanReqs, 2);
    const runs: Record<string, Load[]> = { bareVerify: [], kwVerify: [], kwLean: [], bareGet: [], kwGet: [] };
    for (let r = 0; r < ROUNDS; r++) {
      runs.bareVerify!.push(await load(bare.url, verifyReqs, SECONDS));
      runs.kwVerify!.push(await load(kw.url, verifyReqs, SECONDS));
      runs.kwLean!.push(await load(kw.url, leanReqs, SECONDS));
      runs.bareGet!.push(await load(bare.url, getReqs, SECONDS));
      runs.kwGet!.push(await load(kw.url, getReqs, SECONDS));
    }

    // The cost of request logging: the same Keyward at the default level (info), once.
    await kw.stop();
    const kwInfo = await startKeyward(['--data-dir', path.join(tmp.dir, 'data')], { ...env, KEYWARD_LOG_LEVEL: 'info' });
    servers.push(kwInfo);
    kwInfo.forgetOutput();
    await load(kwInfo.url, verifyReqs, 2);
    const bareAgain = await load(bare.url, verifyReqs, SECONDS);
    const info = await load(kwInfo.url, verifyReqs, SECONDS);

    const bv = mean(runs.bareVerify!);
    const kv = mean(runs.kwVerify!);
    const kl = mean(runs.kwLean!);
    const bg = mean(runs.bareGet!);
    const kg = mean(runs.kwGet!);
    const paired = (a: Load[], b: Load[]) => median(a.map((l, r) => l.reqPerSec / b[r]!.reqPerSec));
    const ratios = new Map<Load, number>([[kv, paired(runs.kwVerify!, runs.bareVerify!)], [kl, paired(runs.kwLean!, runs.bareVerify!)], [kg, paired(runs.kwGet!, runs.bareGet!)]]);
    const row = (name: string, l: Load, base: Load) => [name, fmt(l.reqPerSec), (ratios.get(l) ?? l.reqPerSec / base.reqPerSec).toFixed(2), fmt(l.p50, 2), fmt(l.p99, 2), (l.p99 / base.p99).toFixed(2)];
    table(
      `HTTP verification, ${CONNECTIONS} connections (mean of ${ROUNDS} runs of ${SECONDS} s each; x bare: median of per-round ratios)`,
      ['case', 'req/s', 'x bare', 'p50 ms', 'p99 ms', 'p99 x bare'],
      [
        row('bare node:http POST /v1/verify (baseline)', bv, bv),
        row('keyward POST /v1/verify (cache hit)', kv, bv),
        row('keyward GET /v1/verify, forward auth (cache hit)', kl, bv),
        row('bare node:http GET apikey aggregate (baseline)', bg, bg),
        row('keyward GET /ng/api/apikey/aggregate/<id>', kg, bg),
      ],
    );
    table(
      `Request logging: keyward at log level info vs warn (one run of ${SECONDS} s, against a bare run just before)`,
      ['case', 'req/s', 'x bare', 'p50 ms', 'p99 ms', 'p99 x bare'],
      [row('bare node:http POST /v1/verify (baseline)', bareAgain, bareAgain), row('keyward POST /v1/verify, KEYWARD_LOG_LEVEL=info', info, bareAgain)],
    );
    console.log('\nPer run (req/s):');
    for (const [k, v] of Object.entries(runs)) console.log(`  ${k}: ${v.map((l) => fmt(l.reqPerSec)).join(', ')}`);
    console.log(`Per-round ratios, verify: ${runs.kwVerify!.map((l, r) => (l.reqPerSec / runs.bareVerify![r]!.reqPerSec).toFixed(2)).join(', ')}; GET: ${runs.kwGet!.map((l, r) => (l.reqPerSec / runs.bareGet![r]!.reqPerSec).toFixed(2)).join(', ')}`);
    const ratio = ratios.get(kv)!;
    console.log(`\nTarget: keyward verify >= 0.8x bare node:http: ${ratio >= 0.8 ? 'met' : 'MISSED'} (${ratio.toFixed(2)}x).`);
  } finally {
    for (const s of servers) await s.stop();
    tmp.remove();
  }
}

await main();
