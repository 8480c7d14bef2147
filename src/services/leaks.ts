/**
 * Leaked-token reports (docs/leak-reports.md). A reported token that Keyward issued, whose secret
 * matches, is revoked at once through `mutate` (so the bus evicts it from every node's cache), its
 * audit event carries the report's url and source, and `token.leaked` and `token.revoked` webhooks
 * are queued in the same transaction. A wrong secret, an unknown token, or (for an account's own
 * report) a token of another account is a false positive and changes nothing: the answer does not
 * say which, so the native endpoint is no oracle for other tenants' tokens.
 */
import { InvalidArgumentError, UnauthenticatedError } from '../domain/errors.js';
import { checkScannerSignature, MAX_LEAK_MATCHES, type LeakMatch, type LeakVerdict, type ScannerKey } from '../domain/leaks.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope } from '../domain/scope.js';
import { digestHex } from '../domain/tokens.js';
import { getTokenById, updateToken } from '../store/tokens.js';
import type { AccessService } from './access.js';
import { mutate } from './audit.js';
import type { CgApiKeyService } from './cgApiKeys.js';
import type { Caller, ServiceContext } from './context.js';
import type { VerificationService } from './verification.js';
import { tokenEvent } from './webhookEvents.js';

export class LeakService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessService,
    private readonly verification: VerificationService,
    private readonly cgApiKeys: CgApiKeyService,
    private readonly scannerKeys: () => readonly ScannerKey[],
  ) {}

  /** A scanner's report: refused (401) unless signed by a configured key over these exact bytes. */
  async scannerReport(reporter: string, body: Buffer, keyId: string | undefined, signature: string | undefined): Promise<LeakVerdict[]> {
    const check = checkScannerSignature(this.scannerKeys(), keyId, signature, body);
    if (check !== 'ok') {
      throw new UnauthenticatedError(
        check === 'unsigned' ? 'The report is not signed' : check === 'unknown_key' ? 'The report is signed with an unknown key' : 'The report signature does not verify',
        check,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw InvalidArgumentError.field('body', 'is not JSON');
    }
    const matches = checkMatches(parsed);
    return this.handle({ actor: { type: 'SYSTEM', id: `leak-report:${reporter}` } }, matches, null, reporter);
  }

  /** An account admin's report (core_account_edit): only that account's tokens are considered. */
  async accountReport(caller: Caller, accountId: string, matches: LeakMatch[]): Promise<LeakVerdict[]> {
    await this.access.require(caller, P.accountEdit, { type: RESOURCE.account, identifier: accountId }, makeScope(accountId));
    if (matches.length > MAX_LEAK_MATCHES) throw InvalidArgumentError.field('body', `at most ${MAX_LEAK_MATCHES} tokens per report`);
    return this.handle(caller, matches, accountId, 'account');
  }

  private async handle(caller: Caller, matches: LeakMatch[], onlyAccount: string | null, reporter: string): Promise<LeakVerdict[]> {
    const out: LeakVerdict[] = [];
    for (const m of matches) {
      const verdict = { token_hash: digestHex(m.token), token_type: m.type };
      const rec = await this.verification.possessed(m.token);
      if (!rec || (onlyAccount !== null && rec.accountId !== onlyAccount)) {
        out.push({ ...verdict, label: 'false_positive' });
        continue;
      }
      await this.revoke(caller, rec.tokenId, rec.format, rec.accountId, { url: m.url, source: m.source, reporter, type: m.type });
      out.push({ ...verdict, label: 'true_positive' });
    }
    return out;
  }

  private async revoke(caller: Caller, tokenId: string, format: string, accountId: string, report: Record<string, string | null>): Promise<void> {
    if (format === 'harness_cg') {
      // A CG key has no validity window: it is deleted, as its own protocol would.
      const leaked = { type: 'token.leaked' as const, accountId, data: { tokenId, format, url: report.url, source: report.source } };
      await this.cgApiKeys.delete(caller, accountId, tokenId, { details: { leaked: report }, events: [leaked, { ...leaked, type: 'token.revoked', data: { ...leaked.data, reason: 'leaked' } }] }).catch((e: unknown) => {
        // Reported twice: the first report deleted it.
        if ((e as { kind?: string }).kind !== 'not_found') throw e;
      });
      return;
    }
    const token = await getTokenById(this.ctx.store.db, tokenId);
    if (!token) return;
    await mutate(this.ctx, caller, { action: 'token.leak_revoke', resourceType: RESOURCE.token, resourceId: token.identifier, scope: token.scope }, async (tx) => {
      const now = this.ctx.clock.now();
      const current = await getTokenById(tx, tokenId);
      const already = !current || (current.scheduledExpireTime !== null && current.scheduledExpireTime <= now);
      if (already) return { result: undefined, details: { id: tokenId, ...report, alreadyRevoked: true } };
      // Ends it now: verification answers `rotated_out` from here on, on every node.
      await updateToken(tx, tokenId, { scheduledExpireTime: now, updatedAt: now });
      return {
        result: undefined,
        details: { id: tokenId, ...report },
        invalidate: [{ kind: 'token', tokenIds: [tokenId] }],
        events: [
          tokenEvent('token.leaked', current, { url: report.url, source: report.source }),
          tokenEvent('token.revoked', current, { reason: 'leaked', revokedAt: now }),
        ],
      };
    });
  }
}

/** A scanner's body: an array of `{token, type, url?, source?}`; anything else is a 400. */
export function checkMatches(v: unknown): LeakMatch[] {
  if (!Array.isArray(v)) throw InvalidArgumentError.field('body', 'must be an array of {token, type, url, source}');
  if (v.length > MAX_LEAK_MATCHES) throw InvalidArgumentError.field('body', `at most ${MAX_LEAK_MATCHES} tokens per report`);
  return v.map((m: unknown, i) => {
    const e = m as Record<string, unknown> | null;
    const str = (x: unknown, max: number) => (typeof x === 'string' && x.length <= max ? x : undefined);
    const token = str(e?.token, 1024);
    if (!e || typeof e !== 'object' || !token) throw InvalidArgumentError.field(`${i}.token`, 'is required (a string of at most 1024 characters)');
    return { token, type: str(e.type, 128) ?? '', url: str(e.url, 2048) ?? null, source: str(e.source, 128) ?? null };
  });
}
