/** Builds every service over one context. */
import type { Clock } from '../domain/clock.js';
import { PreconditionFailedError } from '../domain/errors.js';
import type { Store } from '../store/database.js';
import { AccessService } from './access.js';
import { ApiKeyService } from './apiKeys.js';
import { AuditService } from './audit.js';
import { AuditOutbox, DEFAULT_LIMITS, InvalidationBus, type Limits, type ServiceContext } from './context.js';
import { insertAuditEvent } from '../store/audit.js';
import { ScopeService } from './scopes.js';
import { ServiceAccountService } from './serviceAccounts.js';
import { TokenService } from './tokens.js';
import { UsageRecorder } from './usage.js';
import { UserService } from './users.js';
import { ZenmlService } from './zenml.js';
import { ConsoleSessionService, SessionService } from './sessions.js';
import { VerificationService } from './verification.js';
import { DEFAULT_CACHE_OPTIONS, type CacheOptions } from './verificationCache.js';
import { UserGroupService } from './userGroups.js';
import { CgApiKeyService } from './cgApiKeys.js';
import { CgUserService } from './cgUsers.js';
import { PolicyService } from './policies.js';
import type { Keyring } from '../domain/masterKey.js';
import type { ScannerKey } from '../domain/leaks.js';
import { LeakService } from './leaks.js';
import { DEFAULT_DISPATCHER, DEFAULT_SWEEPER, WebhookDispatcher, WebhookService, WebhookSweeper, type DispatcherOptions, type SweeperOptions } from './webhooks.js';
import { DEFAULT_STREAM_OPTIONS, InvalidationStreamService, type StreamOptions } from './invalidationStream.js';

export interface Services {
  ctx: ServiceContext;
  access: AccessService;
  scopes: ScopeService;
  users: UserService;
  serviceAccounts: ServiceAccountService;
  apiKeys: ApiKeyService;
  tokens: TokenService;
  verification: VerificationService;
  audit: AuditService;
  zenml: ZenmlService;
  sessions: SessionService;
  consoleSessions: ConsoleSessionService;
  usage: UsageRecorder;
  userGroups: UserGroupService;
  cgApiKeys: CgApiKeyService;
  cgUsers: CgUserService;
  policies: PolicyService;
  webhooks: WebhookService;
  webhookDispatcher: WebhookDispatcher;
  webhookSweeper: WebhookSweeper;
  leaks: LeakService;
  /** Invalidations as a stream for SDKs that cache verification answers (GET /v1/accounts/{id}/invalidations). */
  invalidationStream: InvalidationStreamService;
}

export interface ServicesOptions {
  store: Store;
  clock: Clock;
  limits?: Partial<Limits>;
  usageFlushMs?: number;
  cache?: Partial<CacheOptions>;
  onBackgroundError?: (e: unknown) => void;
  /** Audit events of failed requests kept while the database is unreachable. */
  auditOutboxMax?: number;
  /** Seals Harness CG keys and the session-signing secret; resolved on first use. Without one, CG keys and sessions fail. */
  keyring?: () => Keyring;
  /** Public keys that may sign leaked-token reports (docs/leak-reports.md). */
  scannerKeys?: readonly ScannerKey[];
  webhookDelivery?: Partial<DispatcherOptions>;
  webhookSweep?: Partial<SweeperOptions>;
  /** The invalidation stream: replay buffer, slow-subscriber bound, heartbeat. */
  stream?: Partial<StreamOptions>;
}

export function createServices(opts: ServicesOptions): Services {
  const ctx: ServiceContext = {
    store: opts.store,
    clock: opts.clock,
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
    bus: new InvalidationBus(),
    auditOutbox: new AuditOutbox(
      (events) => opts.store.transaction(async (tx) => {
        for (const e of events) await insertAuditEvent(tx, e);
      }),
      opts.auditOutboxMax ?? 10_000,
      () => opts.onBackgroundError?.(new Error('audit outbox full: further audit events of failed requests are dropped until the database is back')),
    ),
  };
  const access = new AccessService(ctx);
  const policies = new PolicyService(ctx, access);
  const apiKeys = new ApiKeyService(ctx, access, policies);
  const usage = new UsageRecorder(opts.store, opts.usageFlushMs ?? 5000, opts.onBackgroundError);
  const serviceAccounts = new ServiceAccountService(ctx, access);
  const tokens = new TokenService(ctx, access, apiKeys, policies);
  const userGroups = new UserGroupService(ctx, access);
  const keyring = opts.keyring ?? (() => {
    throw new PreconditionFailedError('No master key is configured: set KEYWARD_MASTER_KEY');
  });
  const users = new UserService(ctx, access);
  const sessions = new SessionService(ctx, keyring);
  const verification = new VerificationService(ctx, usage, { ...DEFAULT_CACHE_OPTIONS, ...opts.cache });
  access.usePermissionCache(verification.permissionCache);
  const cgApiKeys = new CgApiKeyService(ctx, access, userGroups, keyring, policies);
  const webhooks = new WebhookService(ctx, access, keyring);
  const scannerKeys = opts.scannerKeys ?? [];
  return {
    ctx,
    access,
    scopes: new ScopeService(ctx, access),
    users,
    serviceAccounts,
    apiKeys,
    tokens,
    zenml: new ZenmlService(ctx, access, serviceAccounts, apiKeys, tokens, users),
    sessions,
    consoleSessions: new ConsoleSessionService(ctx, sessions, users, verification),
    verification,
    audit: new AuditService(ctx, access),
    usage,
    userGroups,
    policies,
    cgApiKeys,
    cgUsers: new CgUserService(ctx, access, users, userGroups),
    webhooks,
    webhookDispatcher: new WebhookDispatcher(opts.store, ctx, webhooks, { ...DEFAULT_DISPATCHER, ...opts.webhookDelivery }),
    webhookSweeper: new WebhookSweeper(ctx, { ...DEFAULT_SWEEPER, ...opts.webhookSweep }),
    leaks: new LeakService(ctx, access, verification, cgApiKeys, () => scannerKeys),
    invalidationStream: new InvalidationStreamService(ctx.bus, access, { ...DEFAULT_STREAM_OPTIONS, ...opts.stream }),
  };
}

export type { Caller } from './context.js';
