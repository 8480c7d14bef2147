/**
 * Lifecycle webhooks: the event names, what an endpoint may be, the retry schedule and the signing
 * secret's form. Pure rules; src/services/webhooks.ts stores, sweeps and delivers (docs/webhooks.md).
 */
import { BlockList, isIP } from 'node:net';
import { randomBytes } from 'node:crypto';

import { WEBHOOK_EVENTS, type WebhookEventType } from './webhookEventTypes.js';

export { WEBHOOK_EVENTS, type WebhookEventType };

/** One event, as a mutation or the sweeper raises it; `data` never holds a secret. */
export interface WebhookEvent {
  type: WebhookEventType;
  accountId: string;
  data: Record<string, unknown>;
}

/** The JSON body every endpoint receives (Standard Webhooks' recommended `type`/`timestamp`/`data`). */
export function eventPayload(eventId: string, e: WebhookEvent, at: number): string {
  return JSON.stringify({ id: eventId, type: e.type, timestamp: new Date(at).toISOString(), accountId: e.accountId, data: e.data });
}

/** An endpoint wants an event when its filter lists it, or lists nothing (every event). */
export function endpointWants(filter: readonly string[], type: WebhookEventType): boolean {
  return filter.length === 0 || filter.includes(type);
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Only absolute http(s) URLs without credentials; null when acceptable, else what is wrong. */
export function checkWebhookUrl(raw: string): string | null {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
  if (u.username !== '' || u.password !== '') return 'must not carry a user name or password';
  return null;
}

/** Addresses an endpoint may not resolve to when private destinations are refused (KEYWARD_WEBHOOK_ALLOW_PRIVATE=false). */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

/** Loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
    return PRIVATE.check(address, 'ipv6');
  }
  return PRIVATE.check(address, 'ipv4');
}

/** A Standard Webhooks signing secret: `whsec_` and base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** A delivery older than this is not tried again. */
  maxAgeMs: number;
  /** The first retry's delay; each next one doubles, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, maxAgeMs: 3 * 24 * 60 * 60 * 1000, baseDelayMs: 30_000, maxDelayMs: 6 * 60 * 60 * 1000 };

/**
 * When to try again after `attempts` failed attempts: exponential backoff with full jitter over
 * the upper half (so retries never bunch up yet never come sooner than half the step), or null when
 * the delivery has failed for good.
 */
export function nextAttemptAt(p: RetryPolicy, attempts: number, createdAt: number, now: number, random: () => number = Math.random): number | null {
  if (attempts >= p.maxAttempts) return null;
  const step = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const at = now + Math.round(step / 2 + (step / 2) * random());
  return at - createdAt > p.maxAgeMs ? null : at;
}

/** Lead times before expiry at which `token.expiring` is announced (default 7 days and 1 day). */
export const DEFAULT_EXPIRING_LEADS_MS = [7 * 24 * 60 * 60 * 1000, 24 * 60 * 60 * 1000];
/** `token.unused`: no use (or creation) for this long (default 30 days). */
export const DEFAULT_UNUSED_AFTER_MS = 30 * 24 * 60 * 60 * 1000;

/** The bounded excerpt of a receiver's answer kept in the delivery log. */
export const RESPONSE_EXCERPT_BYTES = 256;
