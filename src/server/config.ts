/** Every setting, from the environment, overridable by CLI flags. The README's table mirrors this. */
import { parseMasterKey } from '../domain/masterKey.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  logLevel: string;
  bootstrapToken: string | undefined;
  bootstrapEmail: string;
  bootstrapPassword: string | undefined;
  maxApiKeysPerParent: number;
  maxTokensPerApiKey: number;
  /** Password sign-in: wrong passwords in a row before an email is locked, and for how long. */
  signInMaxFailures: number;
  signInLockoutMs: number;
  usageFlushMs: number;
  trustProxy: boolean;
  /** How long expired and rotated-out tokens stay listed (and say "expired") before they are swept. */
  expiredTokenRetentionMs: number;
  /** Verification cache: entries, lifetime of a positive entry, lifetime of a "not found". */
  cacheMaxEntries: number;
  cacheTtlMs: number;
  negativeCacheTtlMs: number;
  /**
   * Stale-if-error: while the database cannot be reached, verification answers from the cache for at
   * most this long after the node was last in step with invalidations; then 503. 0 turns it off.
   */
  staleIfErrorMs: number;
  /** Keyward's public base URL (what clients reach it at); ZenML's /api/v1/info reports it as server_url. */
  publicUrl: string | null;
  /** The version ZenML's /api/v1/info reports. */
  zenmlServerVersion: string;
  /** ZenML session lifetime in minutes; unset: sessions do not expire, as in ZenML. */
  zenmlJwtExpireMinutes: number | null;
  /** Seals Harness CG keys (AES-256-GCM): 32 bytes, hex or base64; unset: `<dataDir>/master.key`, created once, mode 0600. */
  masterKey: string | undefined;
  /** Older master keys, comma-separated, that can still open sealed values during a rotation. */
  masterKeyPrevious: string[];
  /** Console session lifetime in minutes; a session signed in with a token also ends when the token expires. */
  consoleSessionMinutes: number;
  /** Leaked-token reports: a file in GitHub's key-list format and/or the same JSON inline (docs/leak-reports.md). */
  leakReportKeysFile: string | undefined;
  leakReportKeys: string | undefined;
  /** Webhooks (docs/webhooks.md): how often due deliveries are claimed and the time events swept. */
  webhookIntervalMs: number;
  webhookSweepMs: number;
  webhookTimeoutMs: number;
  webhookMaxAttempts: number;
  webhookMaxAgeMs: number;
  webhookRetryBaseMs: number;
  webhookRetryMaxMs: number;
  /** false: endpoints may not resolve to loopback, private, link-local or other reserved addresses. */
  webhookAllowPrivate: boolean;
  webhookExpiringLeadsMs: number[];
  /** token.unused after this long without a use; 0 turns it off. */
  webhookUnusedAfterMs: number;
  /** The invalidation stream (GET /v1/accounts/{id}/invalidations): heartbeat interval, replay buffer, slow-subscriber bound. */
  streamHeartbeatMs: number;
  streamBufferEvents: number;
  streamMaxPendingBytes: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

/** A comma-separated list of non-negative integers. */
function msList(env: NodeJS.ProcessEnv, name: string, fallback: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw.split(',').map((p) => {
    const n = Number(p.trim());
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a comma-separated list of positive integers, got "${raw}"`);
    return n;
  });
}

/** A master key setting, refused at start when it is not 32 bytes of hex or base64. */
function masterKey(raw: string | undefined, name: string): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  parseMasterKey(raw, name);
  return raw.trim();
}

/** An absolute http(s) URL without a trailing slash, refused at start otherwise; unset or blank: null. */
function publicUrl(raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === '') return null;
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error(`KEYWARD_PUBLIC_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`KEYWARD_PUBLIC_URL must be an absolute http(s) URL, got "${raw}"`);
  return raw.trim().replace(/\/+$/, '');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const base: Config = {
    port: int(env, 'KEYWARD_PORT', 8080),
    host: env.KEYWARD_HOST || '127.0.0.1',
    dataDir: env.KEYWARD_DATA_DIR || './data',
    databaseUrl: env.KEYWARD_DATABASE_URL || undefined,
    logLevel: env.KEYWARD_LOG_LEVEL || 'info',
    bootstrapToken: env.KEYWARD_BOOTSTRAP_TOKEN || undefined,
    bootstrapEmail: env.KEYWARD_BOOTSTRAP_EMAIL || 'admin@keyward.local',
    bootstrapPassword: env.KEYWARD_BOOTSTRAP_PASSWORD || undefined,
    maxApiKeysPerParent: int(env, 'KEYWARD_MAX_API_KEYS_PER_PARENT', 5),
    maxTokensPerApiKey: int(env, 'KEYWARD_MAX_TOKENS_PER_API_KEY', 5),
    signInMaxFailures: int(env, 'KEYWARD_SIGNIN_MAX_FAILURES', 10),
    signInLockoutMs: int(env, 'KEYWARD_SIGNIN_LOCKOUT_MS', 15 * 60_000),
    usageFlushMs: int(env, 'KEYWARD_USAGE_FLUSH_MS', 5000),
    trustProxy: env.KEYWARD_TRUST_PROXY === 'true' || env.KEYWARD_TRUST_PROXY === '1',
    expiredTokenRetentionMs: int(env, 'KEYWARD_EXPIRED_TOKEN_RETENTION_MS', 7 * 24 * 60 * 60 * 1000),
    cacheMaxEntries: int(env, 'KEYWARD_CACHE_MAX_ENTRIES', 100_000),
    cacheTtlMs: int(env, 'KEYWARD_CACHE_TTL_MS', 5 * 60_000),
    negativeCacheTtlMs: int(env, 'KEYWARD_NEGATIVE_CACHE_TTL_MS', 5_000),
    staleIfErrorMs: int(env, 'KEYWARD_STALE_IF_ERROR_MS', 30_000),
    publicUrl: publicUrl(env.KEYWARD_PUBLIC_URL),
    zenmlServerVersion: env.KEYWARD_ZENML_SERVER_VERSION || '0.84.0',
    zenmlJwtExpireMinutes: env.KEYWARD_ZENML_JWT_EXPIRE_MINUTES ? int(env, 'KEYWARD_ZENML_JWT_EXPIRE_MINUTES', 0) : null,
    masterKey: masterKey(env.KEYWARD_MASTER_KEY, 'KEYWARD_MASTER_KEY'),
    masterKeyPrevious: (env.KEYWARD_MASTER_KEY_PREVIOUS ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '').map((k) => masterKey(k, 'KEYWARD_MASTER_KEY_PREVIOUS')!),
    consoleSessionMinutes: int(env, 'KEYWARD_CONSOLE_SESSION_MINUTES', 12 * 60),
    leakReportKeysFile: env.KEYWARD_LEAK_REPORT_KEYS_FILE || undefined,
    leakReportKeys: env.KEYWARD_LEAK_REPORT_KEYS || undefined,
    webhookIntervalMs: int(env, 'KEYWARD_WEBHOOK_INTERVAL_MS', 1000),
    webhookSweepMs: int(env, 'KEYWARD_WEBHOOK_SWEEP_MS', 60_000),
    webhookTimeoutMs: int(env, 'KEYWARD_WEBHOOK_TIMEOUT_MS', 10_000),
    webhookMaxAttempts: int(env, 'KEYWARD_WEBHOOK_MAX_ATTEMPTS', 8),
    webhookMaxAgeMs: int(env, 'KEYWARD_WEBHOOK_MAX_AGE_MS', 3 * 24 * 60 * 60 * 1000),
    webhookRetryBaseMs: int(env, 'KEYWARD_WEBHOOK_RETRY_BASE_MS', 30_000),
    webhookRetryMaxMs: int(env, 'KEYWARD_WEBHOOK_RETRY_MAX_MS', 6 * 60 * 60 * 1000),
    webhookAllowPrivate: env.KEYWARD_WEBHOOK_ALLOW_PRIVATE !== 'false' && env.KEYWARD_WEBHOOK_ALLOW_PRIVATE !== '0',
    webhookExpiringLeadsMs: msList(env, 'KEYWARD_WEBHOOK_EXPIRING_LEADS_MS', [7 * 24 * 60 * 60 * 1000, 24 * 60 * 60 * 1000]),
    webhookUnusedAfterMs: int(env, 'KEYWARD_WEBHOOK_UNUSED_AFTER_MS', 30 * 24 * 60 * 60 * 1000),
    streamHeartbeatMs: int(env, 'KEYWARD_STREAM_HEARTBEAT_MS', 15_000),
    streamBufferEvents: Math.max(1, int(env, 'KEYWARD_STREAM_BUFFER_EVENTS', 1024)),
    streamMaxPendingBytes: int(env, 'KEYWARD_STREAM_MAX_PENDING_BYTES', 1024 * 1024),
  };
  const merged = { ...base };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  return merged;
}
