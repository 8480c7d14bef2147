/**
 * A real HTTP receiver for webhook tests: records every request (raw body and headers), answers
 * 200 or 500 as told, and can be stopped (connections refused) and started again on the same port.
 * Signatures are checked with the standardwebhooks library's own `verify`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  body: string;
  payload: { id: string; type: string; timestamp: string; accountId: string; data: Record<string, unknown> };
  headers: Record<string, string>;
  status: number;
}

export class WebhookReceiver {
  received: Received[] = [];
  answer = 200;
  private server: http.Server | null = null;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        let payload: Received['payload'];
        try {
          payload = JSON.parse(body) as Received['payload'];
        } catch {
          payload = { id: '', type: '', timestamp: '', accountId: '', data: {} };
        }
        this.received.push({ id: headers['webhook-id'] ?? '', type: payload.type, body, payload, headers, status: this.answer });
        res.statusCode = this.answer;
        res.end(this.answer === 200 ? 'ok' : 'receiver failing on purpose');
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The requests that were answered 200. */
  accepted(): Received[] {
    return this.received.filter((r) => r.status === 200);
  }

  /** Throws unless the request carries a valid Standard Webhooks signature under `secret`. */
  static verify(r: Received, secret: string): unknown {
    return new Webhook(secret).verify(r.body, r.headers);
  }

  async waitFor(check: (r: Received[]) => boolean, limitMs = 10_000): Promise<void> {
    const start = Date.now();
    while (Date.now() - start < limitMs) {
      if (check(this.received)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`receiver: condition not met within ${limitMs} ms; got ${JSON.stringify(this.received.map((r) => [r.type, r.status]))}`);
  }
}
