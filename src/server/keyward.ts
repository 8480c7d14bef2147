/** One whole Keyward: store, migrations, services, bootstrap, HTTP app and background work. */
import type { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../domain/clock.js';
import { openStore, type Store } from '../store/database.js';
import { deleteExpiredTokens, sweepTombstones } from '../store/tokens.js';
import { PgRelay } from '../store/notify.js';
import { sweepConsoleSessions } from '../store/consoleSessions.js';
import { pruneWebhooks } from '../store/webhooks.js';
import { readFileSync } from 'node:fs';
import { parseScannerKeys, type ScannerKey } from '../domain/leaks.js';
import type { Invalidation } from '../services/context.js';
import { createServices, type Services } from '../services/index.js';
import { bootstrap, type Provisioned } from '../services/provisioning.js';
import { buildApp } from './app.js';
import { lazyKeyring } from './masterKey.js';
import type { Config } from './config.js';
import { VERSION } from '../version.js';
import { isKeywardError, UnavailableError } from '../domain/errors.js';

export interface KeywardOptions {
  config: Config;
  clock?: Clock;
  /** An already-open store (tests); otherwise one is opened from the config. */
  store?: Store;
  logStream?: Writable;
  /** Receives the bootstrap banner (default: stdout). */
  announce?: (text: string) => void;
}

export interface Keyward {
  app: FastifyInstance;
  services: Services;
  store: Store;
  config: Config;
  /** What the first start created, including the token (only ever on that start). */
  bootstrapped: Provisioned | null;
  /** PostgreSQL only: the LISTEN/NOTIFY relay that carries invalidations between nodes. */
  relay: PgRelay<Invalidation> | null;
  listen(): Promise<string>;
  close(): Promise<void>;
}

const TOMBSTONE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

export function bootstrapBanner(p: Provisioned): string {
  const line = '='.repeat(78);
  return [
    line,
    ' KEYWARD BOOTSTRAP: the admin token below is shown ONCE. Store it somewhere safe now.',
    line,
    `   account: ${p.account.id}`,
    `   user:    ${p.admin.email} (${p.admin.id})`,
    `   token:   ${p.token}`,
    `   expires: ${p.tokenRecord.validTo === null ? 'never' : new Date(p.tokenRecord.validTo).toISOString()}`,
    line,
    '',
  ].join('\n');
}

/** The leak-report signing keys the operator configured: a file and/or inline JSON; read once, at start. */
export function loadScannerKeys(config: Pick<Config, 'leakReportKeysFile' | 'leakReportKeys'>): ScannerKey[] {
  const keys: ScannerKey[] = [];
  if (config.leakReportKeysFile) keys.push(...parseScannerKeys(readFileSync(config.leakReportKeysFile, 'utf8'), config.leakReportKeysFile));
  if (config.leakReportKeys) keys.push(...parseScannerKeys(config.leakReportKeys, 'KEYWARD_LEAK_REPORT_KEYS'));
  return keys;
}

export async function createKeyward(opts: KeywardOptions): Promise<Keyward> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const store = opts.store ?? (await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  await store.migrate();
  let app: FastifyInstance | null = null;
  const services = createServices({
    store,
    clock,
    limits: {
      apiKeysPerParent: config.maxApiKeysPerParent,
      tokensPerApiKey: config.maxTokensPerApiKey,
      signInFailures: config.signInMaxFailures,
      signInLockoutMs: config.signInLockoutMs,
    },
    usageFlushMs: config.usageFlushMs,
    cache: { maxEntries: config.cacheMaxEntries, ttlMs: config.cacheTtlMs, negativeTtlMs: config.negativeCacheTtlMs, staleIfErrorMs: config.staleIfErrorMs },
    // An unreachable database is logged once per outage (below), not once per background attempt.
    onBackgroundError: (e) => {
      if (!(e instanceof UnavailableError)) app?.log.error({ err: e }, 'background write failed');
    },
    stream: { heartbeatMs: config.streamHeartbeatMs, bufferEvents: config.streamBufferEvents, maxPendingBytes: config.streamMaxPendingBytes },
    keyring: lazyKeyring({ masterKey: config.masterKey, masterKeyPrevious: config.masterKeyPrevious, dataDir: config.dataDir }),
    scannerKeys: loadScannerKeys(config),
    webhookDelivery: {
      timeoutMs: config.webhookTimeoutMs,
      allowPrivate: config.webhookAllowPrivate,
      retry: { maxAttempts: config.webhookMaxAttempts, maxAgeMs: config.webhookMaxAgeMs, baseDelayMs: config.webhookRetryBaseMs, maxDelayMs: config.webhookRetryMaxMs },
    },
    webhookSweep: { expiringLeadsMs: config.webhookExpiringLeadsMs, unusedAfterMs: config.webhookUnusedAfterMs },
  });
  // Master-key rotation: with older keys configured, re-seal every CG key under the current one at start.
  const resealed = config.masterKeyPrevious.length > 0 ? await services.cgApiKeys.reseal() : null;
  const resealedHooks = config.masterKeyPrevious.length > 0 ? await services.webhooks.reseal() : null;
  // The session-signing secret: created sealed, moved off its old plain form, re-sealed after a
  // master-key rotation. A secret this node cannot open leaves sessions refused (with a message
  // saying why) rather than the server down: tokens still verify.
  let sessionSecret: { outcome: string } | { error: string };
  try {
    sessionSecret = { outcome: await services.sessions.prepareSecret() };
  } catch (e) {
    if (!isKeywardError(e)) throw e;
    sessionSecret = { error: e.message };
  }
  const bootstrapped = await bootstrap(services.ctx, {
    token: config.bootstrapToken ?? null,
    adminEmail: config.bootstrapEmail,
    adminPassword: config.bootstrapPassword ?? null,
  });
  if (bootstrapped) (opts.announce ?? ((t) => process.stdout.write(t)))(bootstrapBanner(bootstrapped));

  // Several nodes on one PostgreSQL: carry every invalidation to the others. Until the listener is up
  // (and whenever it drops) this node cannot know what it missed, so it does not cache; while the
  // database is also unreachable, what it had cached may answer, flagged stale, within
  // KEYWARD_STALE_IF_ERROR_MS (services/verificationCache.ts).
  let relay: PgRelay<Invalidation> | null = null;
  if (store.dialect === 'postgres' && store.pgPool && store.pgConfig) {
    const cache = services.verification.cache;
    cache.enabled = false;
    // The invalidation stream, likewise: no subscriber is told it is in step while this node may miss events.
    const stream = services.invalidationStream;
    stream.suspend();
    let lostAt: number | null = null;
    relay = new PgRelay<Invalidation>(
      store.pgConfig,
      store.pgPool,
      {
        deliver: (e) => services.ctx.bus.deliver(e),
        down: (reason) => {
          cache.outOfStep();
          stream.suspend();
          lostAt = Date.now();
          app?.log.warn({ dependency: 'postgresql', reason, staleIfErrorMs: config.staleIfErrorMs }, 'invalidation listener lost: verification cache off until it is back');
        },
        up: () => {
          cache.inStep();
          stream.resume();
          if (lostAt !== null) app?.log.info({ dependency: 'postgresql', lostMs: Date.now() - lostAt }, 'invalidation listener back: verification cache on');
          lostAt = null;
        },
      },
      { kind: 'all' },
    );
    const r = relay;
    services.ctx.bus.useTransactionalRelay((tx, e) => r.publishIn(tx, e));
    services.ctx.bus.onRelay((e) => {
      r.publish(e).catch((err: unknown) => app?.log.error({ err }, 'could not publish an invalidation'));
    });
    await relay.start();
  }

  // Logged once when the database stops answering and once when it is back; then the listener
  // rejoins at once and what was buffered meanwhile is written.
  store.health.on({
    down: (dependency, reason) => app?.log.error({ dependency, reason }, 'database unreachable: requests that need it answer 503'),
    up: (dependency, downMs) => {
      app?.log.info({ dependency, downMs }, 'database reachable again');
      relay?.reconnectNow();
      void services.ctx.auditOutbox.flush();
      void services.usage.flush();
    },
  });

  app = await buildApp({
    services,
    logLevel: config.logLevel,
    trustProxy: config.trustProxy,
    version: VERSION,
    zenml: { serverVersion: config.zenmlServerVersion, jwtExpireMinutes: config.zenmlJwtExpireMinutes, publicUrl: config.publicUrl },
    console: { sessionTtlMs: Math.max(1, config.consoleSessionMinutes) * 60_000 },
    ...(opts.logStream ? { logStream: opts.logStream } : {}),
  });
  if (resealed) app.log.info(resealed, 'CG API keys re-sealed under the current master key');
  if (resealedHooks) app.log.info(resealedHooks, 'webhook signing secrets re-sealed under the current master key');
  if ('error' in sessionSecret) app.log.error(sessionSecret.error);
  else if (sessionSecret.outcome === 'migrated') app.log.warn('the session-signing secret was stored in plain text: replaced by a new sealed secret; existing ZenML and console sessions have ended');
  else if (sessionSecret.outcome === 'resealed') app.log.info('session-signing secret re-sealed under the current master key');
  services.usage.start();
  // Audit events of requests refused while the database was unreachable: retried on the usage interval too.
  const outboxTimer = setInterval(() => void services.ctx.auditOutbox.flush(), Math.max(1000, Math.min(config.usageFlushMs, 5000)));
  outboxTimer.unref();

  // Harness deletes expired tokens through a TTL index; Keyward keeps them listed for a retention period first.
  const sweeper = setInterval(() => {
    const now = clock.now();
    void store
      .transaction(async (tx) => {
        await deleteExpiredTokens(tx, now - config.expiredTokenRetentionMs);
        await sweepTombstones(tx, now - TOMBSTONE_RETENTION_MS);
        await sweepConsoleSessions(tx, now - 24 * 60 * 60 * 1000);
      })
      .catch((e: unknown) => {
        if (!(e instanceof UnavailableError)) app?.log.warn({ err: e }, 'token sweep failed');
      });
  }, 60_000);
  sweeper.unref();

  // Webhooks: deliver what is due (queued in the database, so a restart loses nothing), and raise time events.
  const background = (what: string, run: () => Promise<unknown>) => () =>
    void run().catch((e: unknown) => {
      if (!(e instanceof UnavailableError)) app?.log.warn({ err: e }, `${what} failed`);
    });
  const webhookTimer = setInterval(background('webhook delivery', () => services.webhookDispatcher.drain()), Math.max(50, config.webhookIntervalMs));
  webhookTimer.unref();
  const webhookSweepTimer = setInterval(
    background('webhook sweep', async () => {
      await services.webhookSweeper.runOnce();
      await store.transaction((tx) => pruneWebhooks(tx, clock.now() - TOMBSTONE_RETENTION_MS));
    }),
    Math.max(50, config.webhookSweepMs),
  );
  webhookSweepTimer.unref();

  let closed = false;
  const instance: Keyward = {
    app,
    services,
    store,
    config,
    bootstrapped,
    relay,
    async listen() {
      return app!.listen({ port: config.port, host: config.host });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      clearInterval(outboxTimer);
      clearInterval(webhookTimer);
      clearInterval(webhookSweepTimer);
      await app!.close();
      await services.webhookDispatcher.stop();
      await relay?.stop();
      await services.usage.stop();
      await services.ctx.auditOutbox.flush();
      await store.close();
    },
  };
  return instance;
}
