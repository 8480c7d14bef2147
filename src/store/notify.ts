/**
 * Cross-node invalidation over PostgreSQL LISTEN/NOTIFY. Each node publishes the invalidations it
 * makes and applies the ones other nodes make. A mutation's NOTIFY is sent inside its own
 * transaction (`publishIn`), so PostgreSQL delivers it exactly when, and only if, the mutation
 * commits: a revocation cannot commit and then fail to be announced.
 *
 * A node that loses its listening connection cannot know what it missed: it reports `down` once
 * (the cache stops serving as usual), reconnects with a short backoff (first retry within a few
 * hundred milliseconds, never more than a second apart) or at once when told the database is back
 * (`reconnectNow`), and reports `up` once listening again.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import type { Db } from './database.js';

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
  private connecting = false;
  /** True between a reported `down` and the next `up`: `down` is reported once per loss. */
  private reportedDown = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  connected = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly pool: pg.Pool,
    private readonly handlers: RelayHandlers<M>,
    private readonly fallback: M,
    /** Backoff: the first retry after `firstRetryMs` (plus jitter), doubling up to `maxRetryMs`. */
    private readonly backoff = { firstRetryMs: 100, maxRetryMs: 1000 },
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting || this.connected) return;
    this.connecting = true;
    const client = new pg.Client(this.config);
    client.on('error', () => this.lost(client, 'connection error'));
    client.on('end', () => this.lost(client, 'connection ended'));
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
      this.connecting = false;
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      this.scheduleReconnect(`connect failed: ${(e as Error).message}`);
      return;
    }
    this.connecting = false;
    if (this.stopped) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.connected = true;
    this.attempt = 0;
    this.reportedDown = false;
    this.handlers.up();
  }

  private lost(client: pg.Client, reason: string): void {
    if (this.client !== client) return;
    this.connected = false;
    this.client = null;
    client.removeAllListeners();
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    if (!this.reportedDown) {
      this.reportedDown = true;
      this.handlers.down(reason);
    }
    if (this.stopped || this.retryTimer) return;
    const base = Math.min(this.backoff.firstRetryMs * 2 ** this.attempt, this.backoff.maxRetryMs);
    this.attempt++;
    // Jitter, so that many nodes do not all reconnect in the same instant.
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  /** The database is known to answer again: try to listen now rather than at the next retry. */
  reconnectNow(): void {
    if (this.stopped || this.connected || this.connecting) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    void this.connect();
  }

  private payload(message: M): string {
    const payload = JSON.stringify({ from: this.nodeId, message });
    return payload.length > MAX_PAYLOAD ? JSON.stringify({ from: this.nodeId, message: this.fallback }) : payload;
  }

  /** Sends a message to every other node. Failures are reported; the sender's own cache is already evicted. */
  async publish(message: M): Promise<void> {
    await this.pool.query('select pg_notify($1, $2)', [CHANNEL, this.payload(message)]);
  }

  /** Queues a message inside a transaction: PostgreSQL sends it when (and only if) that transaction commits. */
  async publishIn(tx: Db, message: M): Promise<void> {
    await sql`select pg_notify(${CHANNEL}, ${this.payload(message)})`.execute(tx);
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
