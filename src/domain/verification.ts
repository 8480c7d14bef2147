/**
 * The answer of a verification (the core model, docs/architecture.md): a token string in; the
 * principal, scope, permissions and expiry out, or one precise reason for the rejection. The types
 * live here so that services (verification, access) and protocols share them without importing each other.
 */
import type { Actor } from './model.js';
import type { Scope } from './scope.js';

export type VerifyFailureReason =
  | 'malformed'
  | 'unknown'
  | 'wrong_secret'
  | 'not_yet_valid'
  | 'expired'
  | 'rotated_out'
  | 'deleted'
  | 'key_inactive'
  | 'principal_inactive';

export const VERIFY_REASONS: readonly VerifyFailureReason[] = [
  'malformed', 'unknown', 'wrong_secret', 'not_yet_valid', 'expired', 'rotated_out', 'deleted', 'key_inactive', 'principal_inactive',
];

export interface VerifiedPrincipal {
  /** API_KEY: a Harness CG key, which acts as itself with its user groups' permissions. */
  type: 'USER' | 'SERVICE_ACCOUNT' | 'API_KEY';
  /** Internal id: the user id, or the service account's UUID. */
  id: string;
  /** The identifier Harness uses as parentIdentifier: user id, or service-account identifier. */
  identifier: string;
  name: string;
  email: string;
  scope: Scope;
  /** System operator (users only): may create accounts. */
  isOperator: boolean;
}

export interface Verified {
  readonly valid: true;
  readonly tokenId: string;
  readonly apiKeyId: string;
  readonly apiKeyIdentifier: string;
  /** CG: a Harness CG key (no parent principal). */
  readonly apiKeyType: 'USER' | 'SERVICE_ACCOUNT' | 'CG';
  readonly format: string;
  readonly accountId: string;
  /** The key's scope; permissions are evaluated here. */
  readonly scope: Scope;
  readonly principal: VerifiedPrincipal;
  readonly permissions: readonly string[];
  readonly validFrom: number;
  readonly expiresAt: number | null;
  /** Answered from the cache while the database could not be reached (stale-if-error). */
  readonly stale?: true;
}

export interface Rejected {
  valid: false;
  reason: VerifyFailureReason;
  readonly stale?: true;
}

export type VerifyResult = Verified | Rejected;

export interface VerifyMeta {
  ip?: string | null;
  userAgent?: string | null;
}

/** Who acts, for permission checks and the audit log, when a request carries this verified credential. */
export function actorOf(v: Verified): Actor {
  // A password-signed console session has no key or token ('').
  const via = { apiKeyId: v.apiKeyId || null, tokenId: v.tokenId || null };
  if (v.principal.type === 'USER') {
    return { type: 'USER', id: v.principal.id, accountId: v.accountId, isOperator: v.principal.isOperator, via };
  }
  if (v.principal.type === 'API_KEY') return { type: 'API_KEY', id: v.principal.id, accountId: v.accountId, via };
  return { type: 'SERVICE_ACCOUNT', id: v.principal.id, identifier: v.principal.identifier, scope: v.principal.scope, via };
}
