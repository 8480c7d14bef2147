/** What the SDK returns and receives. The wire shapes come from src/generated/openapi.d.ts. */
import type { components, paths } from './generated/openapi.js';

export type { components, paths };

/** POST /v1/verify's answer, as generated from Keyward's OpenAPI document. */
export type VerifyWire = paths['/v1/verify']['post']['responses'][200]['content']['application/json'];

export interface Scope {
  accountId: string;
  orgId: string | null;
  projectId: string | null;
}

export interface Principal {
  type: 'USER' | 'SERVICE_ACCOUNT' | 'API_KEY';
  id: string;
  identifier: string;
  name: string;
  email: string;
}

/** A valid token (and, when one was asked for, it holds the permission at the scope). Frozen: it may be the cached answer. */
export interface Verified {
  valid: true;
  principal: Principal;
  accountId: string;
  /** The token's key's scope. */
  scope: Scope;
  tokenId: string;
  apiKeyId: string;
  /** Permissions at the key's scope. */
  permissions: readonly string[];
  /** Milliseconds since the epoch; null when the token does not expire. */
  expiresAt: number | null;
  /** True when this answer came from the SDK's cache. */
  cached: boolean;
}

/** Why a token is refused: Keyward's reasons (`unknown`, `expired`, `revoked`...), and `no_token`. */
export type RejectReason = NonNullable<VerifyWire['reason']> | 'no_token';

export interface Rejected {
  valid: false;
  reason: RejectReason;
  cached: false;
}

/** A valid token without the required permission, or whose key's scope does not contain the required scope. */
export interface Denied {
  valid: false;
  reason: 'permission_denied' | 'out_of_scope';
  principal: Principal;
  accountId: string;
  cached: boolean;
}

export type VerifyResult = Verified | Rejected | Denied;

export interface VerifyOptions {
  /** A permission the token must hold (at `scope`, else at its key's scope). */
  permission?: string;
  /** The scope the token must act in (`accountId` defaults to the token's own). */
  scope?: { accountId?: string; orgId?: string; projectId?: string };
}

/** The data of an `invalidate` event of GET /v1/accounts/{accountId}/invalidations, as Keyward's OpenAPI document describes it. */
export type Invalidation = paths['/v1/accounts/{accountId}/invalidations']['get']['responses'][200]['content']['text/event-stream'];

export interface SdkMetrics {
  /** Verifications answered from the cache. */
  hits: number;
  /** Verifications that asked Keyward (including every one made while the stream was down). */
  misses: number;
  /** True while the invalidation stream is connected and in step (only then is the cache used). */
  streamConnected: boolean;
  /** Stream connections begun after the first. */
  reconnects: number;
  /** Cache entries evicted by events, resets and stream loss. */
  evictions: number;
  /** Events received from the stream (invalidate and reset). */
  events: number;
  /** Cached entries now. */
  entries: number;
  /** The last event id received (sent as Last-Event-ID on reconnect). */
  lastEventId: string | null;
}
