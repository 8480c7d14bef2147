/**
 * Leaked-token reports (docs/leak-reports.md): a secret scanner's signed report (GitHub's secret
 * scanning partner program format) and an account admin's own report. The rules are in
 * services/leaks.ts; this file reads the wire and writes GitHub's answer shape.
 */
import type { ContractApp } from '../contract/index.js';
import type { LeakMatch } from '../../domain/leaks.js';
import type { Services } from '../../services/index.js';
import { accountParams, errorResponse, nativeCaller, secured } from './context.js';

/** A report of 100 matches is about 60 KB; anything larger is refused before it is read to the end. */
export const LEAK_REPORT_BODY_LIMIT = 64 * 1024;

const matchSchema = {
  type: 'object',
  required: ['token'],
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 1024 },
    type: { type: 'string', maxLength: 128 },
    url: { type: 'string', maxLength: 2048 },
    source: { type: 'string', maxLength: 128 },
  },
} as const;

const verdictsSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['token_hash', 'token_type', 'label'],
    properties: {
      token_hash: { type: 'string', description: 'SHA-256 of the reported token, hex' },
      token_type: { type: 'string' },
      label: { type: 'string', enum: ['true_positive', 'false_positive'] },
    },
  },
} as const;

export function leakRoutes(app: ContractApp, services: Services): void {
  app.post(
    '/v1/leaks/github',
    {
      bodyLimit: LEAK_REPORT_BODY_LIMIT,
      config: { rawBody: true },
      schema: {
        tags: ['leaks'],
        summary: "A secret scanner's leaked-token report (GitHub secret scanning partner program)",
        description:
          'Signed with ECDSA P-256 / SHA-256 over the raw body (`Github-Public-Key-Identifier`, `Github-Public-Key-Signature`) by a key in KEYWARD_LEAK_REPORT_KEYS(_FILE). Every reported token Keyward issued is revoked at once.',
        headers: {
          type: 'object',
          properties: { 'github-public-key-identifier': { type: 'string', maxLength: 256 }, 'github-public-key-signature': { type: 'string', maxLength: 512 } },
        },
        body: { type: 'array', maxItems: 100, items: matchSchema },
        response: { 200: verdictsSchema, 400: errorResponse, 401: errorResponse, 413: errorResponse, 415: errorResponse },
      },
    },
    async (req) => {
      const h = req.headers as Record<string, string | undefined>;
      return services.leaks.scannerReport('github', req.rawBody ?? Buffer.alloc(0), h['github-public-key-identifier'], h['github-public-key-signature']);
    },
  );

  app.post(
    '/v1/accounts/:accountId/leaks',
    {
      bodyLimit: LEAK_REPORT_BODY_LIMIT,
      schema: {
        tags: ['leaks'],
        summary: "Report leaked tokens of this account (needs core_account_edit); each one found is revoked at once",
        description: 'Same body and answer as the scanner endpoint. A token of another account, an unknown one and a wrong secret all answer false_positive.',
        security: secured,
        params: accountParams,
        body: { type: 'array', minItems: 1, maxItems: 100, items: matchSchema },
        response: { 200: verdictsSchema, 400: errorResponse, 401: errorResponse, 403: errorResponse, 413: errorResponse },
      },
    },
    async (req) => {
      const { caller } = await nativeCaller(services, req);
      const matches: LeakMatch[] = req.body.map((m) => ({ token: m.token, type: m.type ?? '', url: m.url ?? null, source: m.source ?? null }));
      return services.leaks.accountReport(caller, req.params.accountId, matches);
    },
  );
}
