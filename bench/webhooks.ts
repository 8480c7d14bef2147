/**
 * Lifecycle webhooks, on SQLite (and PostgreSQL when reachable):
 *  1. the outbox's cost to a mutation: tokens created per second through `services.tokens.create`
 *     in an account with 3 enabled webhook endpoints (each create queues 3 deliveries in its
 *     transaction) against the same creates in an account with none (the baseline), alternating;
 *  2. delivery throughput: queued deliveries sent by `WebhookDispatcher` (claim with a lease, open the
 *     sealed secret, sign with standardwebhooks, POST, record the attempt) to a local node:http
 *     receiver, against the same number of bare POSTs of the same bodies with the same concurrency
 *     (10 at a time) to the same receiver (the baseline), alternating rounds.
 *   npm run bench:webhooks
 * Env: BENCH_MS (phase 1 per store, default 4000), BENCH_DELIVERIES (per round, default 300),
 *      BENCH_ROUNDS (default 3), BENCH_DB (sqlite, postgres or both; default both when reachable).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { systemClock } from '../src/domain/clock.js';
import { Keyring } from '../src/domain/masterKey.js';
import { makeScope } from '../src/domain/scope.js';
import { SYSTEM_CALLER } from '../src/services/context.js';
import { createServices, type Services } from '../src/services/index.js';
import { provisionAccount } from '../src/services/provisioning.js';
import { enqueueWebhookEvents } from '../src/services/webhookEvents.js';
import { benchStore, fmt, machine, median, pgReachable, table } from './lib.js';

const CREATE_MS = Number(process.env.BENCH_MS ?? 4000);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function receiver(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function barePost(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run(kind: 'sqlite' | 'postgres'): Promise<Array<Array<string | number>>> {
  const bs = await benchStore(kind);
  const rx = await receiver();
  const key = randomBytes(32);
  const services: Services = createServices({
    store: bs.store,
    clock: systemClock,
    limits: { tokensPerApiKey: 10_000_000 },
    keyring: () => new Keyring(key),
    webhookDelivery: { batch: 10 },
  });
  try {
    const quiet = await provisionAccount(services.ctx, SYSTEM_CALLER, { accountName: 'quiet', adminEmail: `q-${kind}@bench.test` });
    const hooked = await provisionAccount(services.ctx, SYSTEM_CALLER, { accountName: 'hooked', adminEmail: `h-${kind}@bench.test` });
    for (let i = 0; i < 3; i++) await services.webhooks.create(SYSTEM_CALLER, hooked.account.id, { url: rx.url });
    let n = 0;
    const creator = (accountId: string, userId: string) => () =>
      services.tokens.create(
        SYSTEM_CALLER,
        { scope: makeScope(accountId), type: 'USER', parentIdentifier: userId },
        { identifier: `b${++n}`, name: 'bench', apiKeyIdentifier: 'bench' },
        { autoCreateKey: true },
      );
    // lib.ts's `interleaved` calls a function 1,000 times between clock reads: too coarse for a
    // transaction each. Here every call checks the clock; slices alternate over 4 rounds.
    const fns = [creator(quiet.account.id, quiet.admin.id), creator(hooked.account.id, hooked.admin.id)];
    const rates: number[][] = [[], []];
    for (let r = 0; r < 4; r++) {
      for (let f = 0; f < 2; f++) {
        let done = 0;
        const start = performance.now();
        while (performance.now() - start < CREATE_MS / 8) {
          await fns[f]!();
          done++;
        }
        rates[f]!.push(done / ((performance.now() - start) / 1000));
      }
    }
    const base = { ops: median(rates[0]!) };
    const withHooks = { ops: median(rates[1]!), ratio: median(rates[1]!.map((x, i) => x / rates[0]![i]!)) };
    // Drop what phase 1 queued, so phase 2 measures its own deliveries only.
    await bs.store.db.deleteFrom('webhook_deliveries').execute();

    for (const e of (await services.webhooks.list(SYSTEM_CALLER, hooked.account.id)).slice(1)) await services.webhooks.delete(SYSTEM_CALLER, hooked.account.id, e.id);
    const body = JSON.stringify({ id: 'evt', type: 'token.created', timestamp: new Date().toISOString(), accountId: hooked.account.id, data: { tokenId: 'x'.repeat(24) } });
    const bareRates: number[] = [];
    const sendRates: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let t0 = performance.now();
      for (let i = 0; i < DELIVERIES; i += 10) await Promise.all(Array.from({ length: Math.min(10, DELIVERIES - i) }, () => barePost(rx.url, body)));
      const bare = DELIVERIES / ((performance.now() - t0) / 1000);
      await bs.store.transaction((tx) =>
        enqueueWebhookEvents(tx, Array.from({ length: DELIVERIES }, () => ({ type: 'token.created' as const, accountId: hooked.account.id, data: { tokenId: 'x'.repeat(24) } })), systemClock.now()),
      );
      t0 = performance.now();
      let sent = 0;
      while (sent < DELIVERIES) sent += await services.webhookDispatcher.runOnce();
      const rate = DELIVERIES / ((performance.now() - t0) / 1000);
      bareRates.push(bare);
      sendRates.push(rate);
      ratios.push(rate / bare);
    }
    return [
      [`${kind}: token creates/s, account without endpoints (baseline)`, fmt(base.ops), '1.00'],
      [`${kind}: token creates/s, account with 3 endpoints (3 deliveries queued per create)`, fmt(withHooks.ops), withHooks.ratio.toFixed(2)],
      [`${kind}: bare POSTs/s to the receiver, 10 at a time (baseline)`, fmt(median(bareRates)), '1.00'],
      [`${kind}: deliveries/s by the dispatcher (claim, sign, POST, record), 10 at a time`, fmt(median(sendRates)), median(ratios).toFixed(2)],
    ];
  } finally {
    await rx.close();
    await bs.cleanup();
  }
}

const kinds = (process.env.BENCH_DB ?? 'both') === 'both' ? ['sqlite', ...((await pgReachable()) ? ['postgres'] : [])] : [process.env.BENCH_DB!];
console.log(machine());
const rows: Array<Array<string | number>> = [];
for (const kind of kinds) rows.push(...(await run(kind as 'sqlite' | 'postgres')));
table('Webhooks: the outbox in a mutation, and delivery throughput', ['case', 'per second', 'ratio to its baseline'], rows);
