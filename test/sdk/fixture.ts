/** What the SDK and invalidation-stream tests share: polling, a raw SSE reader, and service-account tokens over HTTP. */
import { expect } from 'vitest';
import { SseParser, type SseEvent } from '../../packages/sdk/src/index.js';
import type { HttpClient } from '../helpers/keyward.js';

/** Polls until `check` holds; returns the milliseconds it took, or fails after `limitMs`. */
export async function within(limitMs: number, check: () => boolean | Promise<boolean>, what = 'condition'): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${what} not met within ${limitMs} ms`);
}

export interface RawStream {
  status: number;
  events: SseEvent[];
  /** Everything received, comments included. */
  text: () => string;
  closed: () => boolean;
  /** The first event (from index `from`) matching, waited for. */
  next(pred: (e: SseEvent) => boolean, limitMs?: number, from?: number): Promise<SseEvent>;
  close(): void;
}

/** GET /v1/accounts/{accountId}/invalidations, read as it arrives (the SDK's own parser). */
export async function openStream(baseUrl: string, token: string | null, accountId: string, lastEventId?: string): Promise<RawStream> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token) headers['x-api-key'] = token;
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const res = await fetch(`${baseUrl}/v1/accounts/${accountId}/invalidations`, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  let text = '';
  let ended = false;
  const parser = new SseParser((e) => events.push(e));
  if (res.status === 200 && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += value;
          parser.push(value);
        }
      } catch {
        // aborted
      }
      ended = true;
    })();
  } else {
    text = await res.text();
    ended = true;
  }
  return {
    status: res.status,
    events,
    text: () => text,
    closed: () => ended,
    async next(pred, limitMs = 2000, from = 0) {
      let found: SseEvent | undefined;
      await within(limitMs, () => (found = events.slice(from).find(pred)) !== undefined, 'stream event');
      return found!;
    },
    close: () => abort.abort(),
  };
}

export const data = (e: SseEvent) => JSON.parse(e.data) as Record<string, any>;

let seq = 0;
/** A service account with a key and a token in the account, made over the Harness NG API; `role` at account scope. */
export async function serviceAccountToken(http: HttpClient, acc: string, opts: { role?: string } = {}): Promise<{ token: string; id: string; sa: string }> {
  const sa = `bot${++seq}_${Math.random().toString(36).slice(2, 7)}`;
  const q = { accountIdentifier: acc };
  const created = await http.post('/ng/api/serviceaccount', { identifier: sa, name: sa, email: `${sa}@service.harness.io` }, { query: q });
  expect(created.status, created.text).toBe(200);
  expect((await http.post('/ng/api/apikey', { identifier: 'k', name: 'k', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, accountIdentifier: acc }, { query: q })).status).toBe(200);
  const t = await http.post('/ng/api/token', { identifier: 't', name: 't', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: 'k', accountIdentifier: acc }, { query: q });
  expect(t.status, t.text).toBe(200);
  if (opts.role) {
    const ra = await http.post(
      '/authz/api/roleassignments',
      { identifier: `${sa}_role`, resourceGroupIdentifier: '_all_account_level_resources', roleIdentifier: opts.role, principal: { identifier: sa, type: 'SERVICE_ACCOUNT' } },
      { query: q },
    );
    expect(ra.status, ra.text).toBe(200);
  }
  const token = t.body.data as string;
  const v = await http.post('/v1/verify', { token });
  return { token, id: v.body.tokenId as string, sa };
}

export function tokenQuery(acc: string, sa: string) {
  return { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: 'k' };
}
