/** One whole Keyward: store, migrations, services, bootstrap, HTTP app and background work. */
import type { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../domain/clock.js';
import { openStore, type Store } from '../store/database.js';
import { deleteExpiredTokens, sweepTombstones } from '../store/tokens.js';
import { PgRelay } from '../store/notify.js';
import { sweepConsoleSessions } from '../store/consoleSessions.js';
import type { Invalidation } from '../services/context.js';
import { createServices, type Services } from '../services/index.js';
import { bootstrap, type Provisioned } from '../services/provisioning.js';
import { buildApp } from './app.js';
import { lazyKeyring } from './masterKey.js';
import type { Config } from './config.js';
import { VERSION } from '../version.js';

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
    cache: { maxEntries: config.cacheMaxEntries, ttlMs: config.cacheTtlMs, negativeTtlMs: config.negativeCacheTtlMs },
    onBackgroundError: (e) => app?.log.error({ err: e }, 'background write failed'),
    keyring: lazyKeyring({ masterKey: config.masterKey, masterKeyPrevious: config.masterKeyPrevious, dataDir: config.dataDir }),
  });
  // Master-key rotation: with older keys configured, re-seal every CG key under the current one at start.
  const resealed = config.masterKeyPrevious.length > 0 ? await services.cgApiKeys.reseal() : null;
  const bootstrapped = await bootstrap(services.ctx, {
    token: config.bootstrapToken ?? null,
    adminEmail: config.bootstrapEmail,
    adminPassword: config.bootstrapPassword ?? null,
  });
  if (bootstrapped) (opts.announce ?? ((t) => process.stdout.write(t)))(bootstrapBanner(bootstrapped));

  // Several nodes on one PostgreSQL: carry every invalidation to the others. Until the listener is up
  // (and whenever it drops) this node cannot know what it missed, so it does not cache.
  let relay: PgRelay<Invalidation> | null = null;
  if (store.dialect === 'postgres' && store.pgPool && store.pgConfig) {
    const cache = services.verification.cache;
    cache.enabled = false;
    relay = new PgRelay<Invalidation>(
      store.pgConfig,
      store.pgPool,
      {
        deliver: (e) => services.ctx.bus.deliver(e),
        down: (reason) => {
          cache.enabled = false;
          cache.clear();
          app?.log.warn({ reason }, 'invalidation listener down: verification cache disabled');
        },
        up: () => {
          cache.clear();
          cache.enabled = true;
        },
      },
      { kind: 'all' },
    );
    const r = relay;
    services.ctx.bus.onRelay((e) => {
      r.publish(e).catch((err: unknown) => app?.log.error({ err }, 'could not publish an invalidation'));
    });
    await relay.start();
  }

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
  services.usage.start();

  // Harness deletes expired tokens through a TTL index; Keyward keeps them listed for a retention period first.
  const sweeper = setInterval(() => {
    const now = clock.now();
    void store
      .transaction(async (tx) => {
        await deleteExpiredTokens(tx, now - config.expiredTokenRetentionMs);
        await sweepTombstones(tx, now - TOMBSTONE_RETENTION_MS);
        await sweepConsoleSessions(tx, now - 24 * 60 * 60 * 1000);
      })
      .catch((e: unknown) => app?.log.warn({ err: e }, 'token sweep failed'));
  }, 60_000);
  sweeper.unref();

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
      await app!.close();
      await relay?.stop();
      await services.usage.stop();
      await store.close();
    },
  };
  return instance;
}
