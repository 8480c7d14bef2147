/**
 * The Keyward client: the typed native API (openapi-fetch over types generated from Keyward's own
 * OpenAPI document), and `verify` with a local cache kept in step by the invalidation stream.
 *
 * The cache is used only while the stream is connected and in step: a revocation then reaches this
 * process as an event and evicts before the next verify. While the stream is down every verify asks
 * Keyward (`metrics().streamConnected` is false). Only valid answers are cached; a refused token is
 * asked again every time (Keyward has its own short negative cache), so a token that becomes valid
 * is never refused from here.
 */
import createClient, { type Client } from 'openapi-fetch';
import { DEFAULT_CACHE, VerificationCache, tokenDigest, type CacheEntry, type CacheOptions } from './cache.js';
import { DEFAULT_BACKOFF, InvalidationSubscriber, type BackoffOptions } from './stream.js';
import type { Denied, Principal, Rejected, RejectReason, SdkMetrics, Verified, VerifyOptions, VerifyResult, VerifyWire, paths } from './types.js';

export interface StreamSettings {
  /** The account whose invalidations to follow; default: the account of `token` (GET /v1/whoami). */
  accountId?: string;
  backoff?: Partial<BackoffOptions>;
  /** Silence after which the connection counts as lost; default three of the server's heartbeats. */
  idleTimeoutMs?: number;
}

export interface KeywardClientOptions {
  /** Where Keyward is, e.g. `https://keyward.internal:8080`. */
  baseUrl: string;
  /**
   * The SDK's own credential, sent as X-Api-Key on API calls and on the invalidation stream (which
   * needs `core_account_view` on the account). Without one there is no stream, so no cache.
   */
  token?: string;
  /** The local cache; false: every verify asks Keyward. */
  cache?: Partial<CacheOptions> | false;
  /** The invalidation stream; false: none (and so no cache). */
  stream?: StreamSettings | false;
  /** Another fetch (default: Node's global fetch). */
  fetch?: typeof fetch;
}

/** Keyward could not be asked (network error, or a 5xx): no answer, neither valid nor refused. */
export class KeywardUnavailableError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'KeywardUnavailableError';
  }
}

const NO_OPTIONS: VerifyOptions = Object.freeze({});

const NO_TOKEN: Rejected = Object.freeze({ valid: false, reason: 'no_token', cached: false }) as Rejected;

function principalOf(p: VerifyWire['principal']): Principal {
  return {
    type: (p?.type ?? 'USER') as Principal['type'],
    id: p?.id ?? '',
    identifier: p?.identifier ?? '',
    name: p?.name ?? '',
    email: p?.email ?? '',
  };
}

function verifiedOf(w: VerifyWire): Verified {
  return Object.freeze({
    valid: true as const,
    principal: Object.freeze(principalOf(w.principal)),
    accountId: w.accountId ?? '',
    scope: Object.freeze({ accountId: w.scope?.accountId ?? w.accountId ?? '', orgId: w.scope?.orgId ?? null, projectId: w.scope?.projectId ?? null }),
    tokenId: w.tokenId ?? '',
    apiKeyId: w.apiKeyId ?? '',
    permissions: Object.freeze([...(w.permissions ?? [])]),
    expiresAt: w.expiresAt ?? null,
    cached: false,
  });
}

/** The key a permission/scope requirement is cached under, within one token's entry. */
function requirementKey(o: VerifyOptions): string | null {
  const s = o.scope;
  if (o.permission === undefined && (s === undefined || (s.accountId === undefined && s.orgId === undefined))) return null;
  return JSON.stringify([o.permission ?? '', s?.accountId ?? '', s?.orgId ?? '', s?.projectId ?? '']);
}

export class KeywardClient {
  /** The native API, typed from Keyward's OpenAPI document (src/generated/openapi.d.ts). */
  readonly api: Client<paths>;
  private readonly cache: VerificationCache | null;
  private readonly stream: InvalidationSubscriber | null;
  private hits = 0;
  private misses = 0;
  private readonly fetchFn: typeof fetch;

  constructor(readonly options: KeywardClientOptions) {
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.api = createClient<paths>({ baseUrl, fetch: this.fetchFn, headers: options.token ? { 'x-api-key': options.token } : {} });
    const useStream = options.token !== undefined && options.stream !== false && options.cache !== false;
    this.cache = useStream ? new VerificationCache({ ...DEFAULT_CACHE, ...(options.cache || {}) }) : null;
    if (!useStream) {
      this.stream = null;
      return;
    }
    const settings = options.stream || {};
    let accountId: string | undefined = settings.accountId;
    const cache = this.cache!;
    this.stream = new InvalidationSubscriber(
      {
        url: async () => {
          accountId ??= await this.ownAccount();
          return `${baseUrl}/v1/accounts/${encodeURIComponent(accountId)}/invalidations`;
        },
        headers: { 'x-api-key': options.token! },
        fetch: this.fetchFn,
        backoff: { ...DEFAULT_BACKOFF, ...settings.backoff },
        ...(settings.idleTimeoutMs !== undefined ? { idleTimeoutMs: settings.idleTimeoutMs } : {}),
      },
      {
        invalidate: (e) => void cache.apply(e),
        flush: () => void cache.flush(),
        connected: () => undefined,
        disconnected: () => undefined,
      },
    );
  }

  /** The account of the SDK's own token. */
  private async ownAccount(): Promise<string> {
    const { data, response } = await this.api.GET('/v1/whoami');
    if (!data?.accountId) throw new KeywardUnavailableError(`GET /v1/whoami answered ${response.status}`, response.status);
    return data.accountId;
  }

  /**
   * Starts following the invalidation stream (verify does so on first use) and waits until it is in
   * step, for at most `timeoutMs`; false if it is not by then (verify still works, asking Keyward).
   */
  async connect(timeoutMs = 5_000): Promise<boolean> {
    if (!this.stream) return false;
    this.stream.start();
    return this.stream.waitConnected(timeoutMs);
  }

  /** Stops the stream; verify keeps working without the cache. */
  close(): void {
    this.stream?.stop();
    this.cache?.flush();
  }

  metrics(): SdkMetrics {
    return {
      hits: this.hits,
      misses: this.misses,
      streamConnected: this.stream?.connected ?? false,
      reconnects: this.stream?.reconnects ?? 0,
      evictions: this.cache?.evictions ?? 0,
      events: this.stream?.events ?? 0,
      entries: this.cache?.size ?? 0,
      lastEventId: this.stream?.lastEventId ?? null,
    };
  }

  /**
   * Verifies `token`, and when asked, that it holds `permission` (at `scope`). From the cache while
   * the stream is in step; else from Keyward (POST /v1/verify, and GET /v1/verify for a requirement).
   * Throws KeywardUnavailableError when Keyward cannot answer.
   */
  async verify(token: string | null | undefined, options: VerifyOptions = NO_OPTIONS): Promise<VerifyResult> {
    return this.verifyCached(token, options) ?? this.verifyRemote(token!, options);
  }

  /**
   * The answer when it needs no call to Keyward (no token, or a cache hit while the stream is in
   * step), synchronously; undefined when Keyward must be asked (then call `verify`).
   */
  verifyCached(token: string | null | undefined, options: VerifyOptions = NO_OPTIONS): VerifyResult | undefined {
    if (typeof token !== 'string' || token === '') return NO_TOKEN;
    const cache = this.cache;
    if (cache === null) return undefined;
    const stream = this.stream!;
    stream.start();
    if (!stream.connected) return undefined;
    const entry = cache.get(tokenDigest(token));
    if (entry === undefined) return undefined;
    const requirement = requirementKey(options);
    if (requirement === null) {
      this.hits++;
      return entry.hit;
    }
    const denial = entry.grants.get(requirement);
    if (denial === undefined) return undefined;
    this.hits++;
    return denial === null ? entry.hit : this.denied(entry.verified, denial, true);
  }

  /** Asks Keyward (a miss): POST /v1/verify unless the token's entry is cached, then GET /v1/verify for a requirement. */
  private async verifyRemote(token: string, options: VerifyOptions): Promise<VerifyResult> {
    const requirement = requirementKey(options);
    const cache = this.cache;
    const digest = cache === null ? '' : tokenDigest(token);
    let entry = cache !== null && this.stream!.connected ? cache.get(digest) : undefined;
    this.misses++;
    const generation = cache?.generation ?? 0;
    let verified: Verified;
    if (entry === undefined) {
      const answer = await this.ask(token);
      if (!answer.valid) return answer;
      verified = answer;
      if (cache !== null) entry = cache.set(digest, verified, generation);
    } else verified = entry.verified;
    if (requirement === null) return verified;
    const denial = await this.check(token, options);
    if (denial !== null && denial.rejected) return { valid: false, reason: denial.reason as RejectReason, cached: false };
    if (cache !== null && entry !== undefined) cache.setGrant(entry, requirement, denial?.reason ?? null, generation);
    return denial === null ? verified : this.denied(verified, denial.reason, false);
  }

  private denied(v: Verified, reason: string, cached: boolean): Denied {
    return { valid: false, reason: reason as Denied['reason'], principal: v.principal, accountId: v.accountId, cached };
  }

  /** POST /v1/verify. */
  private async ask(token: string): Promise<Verified | Rejected> {
    let result;
    try {
      result = await this.api.POST('/v1/verify', { body: { token } });
    } catch (e) {
      throw new KeywardUnavailableError(`Keyward could not be reached: ${(e as Error).message}`);
    }
    const { data, response } = result;
    if (response.status === 400) return { valid: false, reason: 'malformed', cached: false };
    if (!data) throw new KeywardUnavailableError(`POST /v1/verify answered ${response.status}`, response.status);
    if (!data.valid) return { valid: false, reason: data.reason ?? 'unknown', cached: false };
    return verifiedOf(data);
  }

  /** GET /v1/verify with the requirement: null when granted, else why not (`rejected`: the token itself). */
  private async check(token: string, o: VerifyOptions): Promise<{ reason: string; rejected: boolean } | null> {
    const query: Record<string, string> = {};
    if (o.permission !== undefined) query.permission = o.permission;
    if (o.scope?.accountId !== undefined) query.accountIdentifier = o.scope.accountId;
    if (o.scope?.orgId !== undefined) query.orgIdentifier = o.scope.orgId;
    if (o.scope?.projectId !== undefined) query.projectIdentifier = o.scope.projectId;
    let result;
    try {
      result = await this.api.GET('/v1/verify', { params: { query }, headers: { 'x-api-key': token } });
    } catch (e) {
      throw new KeywardUnavailableError(`Keyward could not be reached: ${(e as Error).message}`);
    }
    const { response, error } = result;
    if (response.status === 200) return null;
    const reason = (error as { reason?: string } | undefined)?.reason;
    if (response.status === 403) return { reason: reason ?? 'permission_denied', rejected: false };
    if (response.status === 401) return { reason: reason ?? 'unknown', rejected: true };
    if (response.status === 400) throw new Error(`GET /v1/verify refused the requirement: ${JSON.stringify(error)}`);
    throw new KeywardUnavailableError(`GET /v1/verify answered ${response.status}`, response.status);
  }
}

export function createKeywardClient(options: KeywardClientOptions): KeywardClient {
  return new KeywardClient(options);
}
