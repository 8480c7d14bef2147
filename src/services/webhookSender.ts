/**
 * One HTTP POST of a webhook delivery: a timeout on the whole exchange, no redirects followed, only
 * a bounded excerpt of the answer kept, and (when private destinations are refused) the address
 * checked after DNS resolution, on the connection actually made, so a name cannot be re-pointed
 * between a check and the request.
 */
import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isPrivateAddress, RESPONSE_EXCERPT_BYTES } from '../domain/webhooks.js';

export interface SendOptions {
  timeoutMs: number;
  allowPrivate: boolean;
}

export interface SendResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  excerpt: string | null;
}

/** dns.lookup, refusing private addresses. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as unknown as LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad || list.length === 0) return callback(Object.assign(new Error(`refused: ${hostname} resolves to a private address`), { code: 'EPRIVATE' }), '', 0);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    return callback(null, list[0]!.address, list[0]!.family);
  });
};

export function sendWebhook(url: string, headers: Record<string, string>, body: string, opts: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const done = (r: Omit<SendResult, 'durationMs'>): SendResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
  return new Promise((resolveOnce) => {
    let timer: NodeJS.Timeout | undefined;
    const resolve = (r: SendResult) => {
      clearTimeout(timer);
      resolveOnce(r);
    };
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return resolve(done({ statusCode: null, error: 'invalid URL', excerpt: null }));
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!mod) return resolve(done({ statusCode: null, error: 'only http and https are allowed', excerpt: null }));
    // A literal private IP never reaches the lookup: check it here.
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!opts.allowPrivate && (host === 'localhost' || (/^[\d.]+$|:/.test(host) && isPrivateAddress(host)))) {
      return resolve(done({ statusCode: null, error: `refused: ${host} is a private address`, excerpt: null }));
    }
    const req = mod.request(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Keyward-Webhooks/1', 'content-length': Buffer.byteLength(body), ...headers },
        ...(opts.allowPrivate ? {} : { lookup: publicOnlyLookup }),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < RESPONSE_EXCERPT_BYTES) {
            chunks.push(c.subarray(0, RESPONSE_EXCERPT_BYTES - kept));
            kept += Math.min(c.length, RESPONSE_EXCERPT_BYTES - kept);
          }
        });
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          const ok = code >= 200 && code < 300;
          resolve(done({ statusCode: code, error: ok ? null : `HTTP ${code}`, excerpt: Buffer.concat(chunks).toString('utf8') }));
        });
        res.on('error', (e) => resolve(done({ statusCode: res.statusCode ?? null, error: e.message, excerpt: null })));
      },
    );
    // The whole exchange, not only an idle socket: a receiver that trickles its answer is cut off too.
    timer = setTimeout(() => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => resolve(done({ statusCode: null, error: e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message, excerpt: null })));
    req.end(body);
  });
}
