/**
 * The lifecycle webhook event types (docs/webhooks.md). Imports nothing, so the console
 * (web/src/api.ts) takes the same list instead of a copy.
 */
export const WEBHOOK_EVENTS = [
  'token.created',
  'token.rotated',
  'token.expiring',
  'token.expired',
  'token.revoked',
  'token.deleted',
  'token.leaked',
  'token.unused',
  'service_account.deactivated',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
