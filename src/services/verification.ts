/**
 * Verification: token string in; principal, scope, permissions and expiry out, or exactly one
 * reason for rejection. Malformed input is rejected without I/O; an unknown id does the same
 * digest work as a wrong secret and gets an answer that says no more than "unknown".
 */
import { DUMMY_DIGEST, digestSecret, digestsEqual, parseToken, type ParsedToken } from '../domain/tokens.js';
import type { Scope } from '../domain/scope.js';
import { credentialByDigest, credentialByTokenId, credentialsByKeyId, type CredentialRecord } from '../store/credentials.js';
import { isTombstoned } from '../store/tokens.js';
import { effectivePermissions, type Principal } from './access.js';
import type { ServiceContext } from './context.js';
import type { UsageRecorder } from './usage.js';

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
  type: 'USER' | 'SERVICE_ACCOUNT';
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
  valid: true;
  tokenId: string;
  apiKeyId: string;
  apiKeyIdentifier: string;
  apiKeyType: 'USER' | 'SERVICE_ACCOUNT';
  format: string;
  accountId: string;
  /** The key's scope; permissions are evaluated here. */
  scope: Scope;
  principal: VerifiedPrincipal;
  permissions: string[];
  validFrom: number;
  expiresAt: number | null;
}

export interface Rejected {
  valid: false;
  reason: VerifyFailureReason;
}

export type VerifyResult = Verified | Rejected;

export interface VerifyMeta {
  ip?: string | null;
  userAgent?: string | null;
}

const reject = (reason: VerifyFailureReason): Rejected => ({ valid: false, reason });

function scopeOf(accountId: string, org: string, project: string): Scope {
  return { accountId, orgId: org === '' ? null : org, projectId: project === '' ? null : project };
}

export class VerificationService {
  /** Called with every outcome, for metrics. */
  onOutcome: (outcome: 'valid' | VerifyFailureReason) => void = () => undefined;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly usage: UsageRecorder | null,
  ) {}

  async verify(raw: unknown, meta: VerifyMeta = {}): Promise<VerifyResult> {
    const result = await this.check(raw, meta);
    this.onOutcome(result.valid ? 'valid' : result.reason);
    return result;
  }

  private async check(raw: unknown, meta: VerifyMeta): Promise<VerifyResult> {
    const parsed = parseToken(raw);
    if (!parsed.format) return reject('malformed');
    const found = await this.lookup(parsed);
    if (!found.valid) return found;
    const rec = found.record;
    const now = this.ctx.clock.now();
    if (rec.scheduledExpireAt !== null && now >= rec.scheduledExpireAt) return reject('rotated_out');
    if (rec.validTo !== null && now >= rec.validTo) return reject('expired');
    if (now < rec.validFrom) return reject('not_yet_valid');
    if (!rec.keyActive) return reject('key_inactive');
    if (!rec.principalActive) return reject('principal_inactive');

    const scope = scopeOf(rec.accountId, rec.orgId, rec.projectId);
    const isUser = rec.userId !== null;
    const principal: VerifiedPrincipal = {
      type: isUser ? 'USER' : 'SERVICE_ACCOUNT',
      id: (isUser ? rec.userId : rec.serviceAccountId)!,
      identifier: rec.principalIdentifier,
      name: rec.principalName,
      email: rec.principalEmail,
      scope: isUser ? scopeOf(rec.accountId, '', '') : scopeOf(rec.accountId, rec.principalOrgId, rec.principalProjectId),
      isOperator: rec.principalIsOperator,
    };
    const asPrincipal: Principal =
      principal.type === 'USER'
        ? { type: 'USER', id: principal.id, accountId: rec.accountId }
        : { type: 'SERVICE_ACCOUNT', id: principal.id, identifier: principal.identifier, scope: principal.scope };
    const permissions = [...(await effectivePermissions(this.ctx.store.db, asPrincipal, scope))].sort();
    this.usage?.record(rec.tokenId, now, meta.ip ?? null, meta.userAgent ?? null);
    return {
      valid: true,
      tokenId: rec.tokenId,
      apiKeyId: rec.apiKeyId,
      apiKeyIdentifier: rec.apiKeyIdentifier,
      apiKeyType: rec.apiKeyType as 'USER' | 'SERVICE_ACCOUNT',
      format: rec.format,
      accountId: rec.accountId,
      scope,
      principal,
      permissions,
      validFrom: rec.validFrom,
      expiresAt: rec.scheduledExpireAt ?? rec.validTo,
    };
  }

  /** Finds the credential and checks the secret in constant time. */
  private async lookup(p: ParsedToken): Promise<{ valid: true; record: CredentialRecord } | Rejected> {
    const db = this.ctx.store.db;
    if (p.format === 'harness_ng') {
      const rec = await credentialByTokenId(db, p.tokenId);
      const ok = digestsEqual(digestSecret(p.secret), rec ? Buffer.from(rec.secretDigest, 'hex') : DUMMY_DIGEST);
      if (!rec) return reject((await isTombstoned(db, { tokenId: p.tokenId })) ? 'deleted' : 'unknown');
      const prefixType = p.prefix === 'pat' ? 'USER' : 'SERVICE_ACCOUNT';
      if (rec.format !== 'harness_ng' || rec.apiKeyType !== prefixType || (p.accountId !== null && p.accountId !== rec.accountId)) {
        return reject('unknown');
      }
      return ok ? { valid: true, record: rec } : reject('wrong_secret');
    }
    if (p.format === 'zenml') {
      const recs = (await credentialsByKeyId(db, p.keyId)).filter((r) => r.format === 'zenml');
      const digest = digestSecret(p.secret);
      // Always two comparisons (current and previous secret), whether or not they exist.
      let match: CredentialRecord | null = null;
      for (let i = 0; i < Math.max(2, recs.length); i++) {
        const r = recs[i];
        if (digestsEqual(digest, r ? Buffer.from(r.secretDigest, 'hex') : DUMMY_DIGEST) && r && !match) match = r;
      }
      if (recs.length === 0) return reject((await isTombstoned(db, { apiKeyId: p.keyId })) ? 'deleted' : 'unknown');
      return match ? { valid: true, record: match } : reject('wrong_secret');
    }
    const digest = digestSecret(p.whole);
    const rec = await credentialByDigest(db, digest.toString('hex'));
    if (!rec || rec.format !== 'harness_cg' || rec.accountId !== p.accountId) return reject('unknown');
    return digestsEqual(digest, Buffer.from(rec.secretDigest, 'hex')) ? { valid: true, record: rec } : reject('wrong_secret');
  }
}
