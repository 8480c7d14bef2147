/**
 * Cross-node invalidation over PostgreSQL LISTEN/NOTIFY. Each node publishes the invalidations it
 * makes and applies the ones other nodes make. A node that loses its listening connection cannot
 * know what it missed: it reports `down` (the cache clears itself and stops caching), reconnects
 * with backoff, and reports `up` once listening again.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const CHANNEL = 'keyward_invalidate';
/** NOTIFY payloads must stay under 8000 bytes; bigger messages are replaced by the `fallback`. */
const MAX_PAYLOAD = 7000;

export interface RelayHandlers<M> {
  deliver(message: M): void;
  down(reason: string): void;
  up(): void;
}

export class PgRelay<M> {
  readonly nodeId = randomUUID();
  private client: pg.Client | null = null;
  private stopped = false;
  private retryMs = 100;
  private retryTimer: NodeJS.Timeout | null = null;
  connected = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly pool: pg.Pool,
    private readonly handlers: RelayHandlers<M>,
    private readonly fallback: M,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client(this.config);
    client.on('error', () => this.lost('connection error'));
    client.on('end', () => this.lost('connection ended'));
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      try {
        const { from, message } = JSON.parse(n.payload) as { from: string; message: M };
        if (from !== this.nodeId) this.handlers.deliver(message);
      } catch {
        this.handlers.deliver(this.fallback);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (e) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.scheduleReconnect(`connect failed: ${(e as Error).message}`);
      return;
    }
    this.client = client;
    this.connected = true;
    this.retryMs = 100;
    this.handlers.up();
  }

  private lost(reason: string): void {
    if (!this.connected && this.client === null) return;
    this.connected = false;
    const c = this.client;
    this.client = null;
    c?.removeAllListeners();
    c?.on('error', () => undefined);
    void c?.end().catch(() => undefined);
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    this.handlers.down(reason);
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, 5000);
  }

  /** Sends a message to every other node. Failures are reported; the sender's own cache is already evicted. */
  async publish(message: M): Promise<void> {
    let payload = JSON.stringify({ from: this.nodeId, message });
    if (payload.length > MAX_PAYLOAD) payload = JSON.stringify({ from: this.nodeId, message: this.fallback });
    await this.pool.query('select pg_notify($1, $2)', [CHANNEL, payload]);
  }

  /** For tests: drop the listening connection as a network failure would. */
  async simulateDisconnect(): Promise<void> {
    const c = this.client;
    if (c) await c.end();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.client;
    this.client = null;
    this.connected = false;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
    }
  }
}
