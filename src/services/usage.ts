/**
 * Last-used data (time, IP, user agent per token) is buffered in memory and written in batches, so
 * verification never writes to the database. A crash loses at most one interval of this data. While
 * the database cannot be reached a failed batch is put back (newer uses win) and written once it
 * answers again; the buffer holds one entry per token, bounded by `maxPending` (past it, uses of
 * further tokens are counted in `dropped` until a batch is written).
 */
import type { Store } from '../store/database.js';
import { recordTokenUsage, type TokenUsage } from '../store/tokens.js';
import { recordKeyLogins } from '../store/apiKeys.js';

export class UsageRecorder {
  private pending = new Map<string, TokenUsage>();
  /** ZenML's last_login per API key. */
  private logins = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** Uses not buffered because the buffer was full (database unreachable for long, many tokens). */
  dropped = 0;

  constructor(
    private readonly store: Store,
    private readonly intervalMs = 5000,
    private readonly onError: (e: unknown) => void = () => undefined,
    readonly maxPending = 100_000,
  ) {}

  /** Tokens whose last use waits to be written. */
  get pendingCount(): number {
    return this.pending.size + this.logins.size;
  }

  /** Called on every successful verification: updates the pending entry in place when there is one. */
  record(tokenId: string, at: number, ip: string | null, userAgent: string | null): void {
    const prev = this.pending.get(tokenId);
    const ua = userAgent !== null && userAgent.length > 512 ? userAgent.slice(0, 512) : userAgent;
    if (prev) {
      if (prev.at > at) return;
      prev.at = at;
      prev.ip = ip;
      prev.userAgent = ua;
      return;
    }
    if (this.pending.size >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.pending.set(tokenId, { tokenId, at, ip, userAgent: ua });
  }

  recordKeyLogin(apiKeyId: string, at: number): void {
    const prev = this.logins.get(apiKeyId);
    if (prev === undefined && this.logins.size >= this.maxPending) {
      this.dropped++;
      return;
    }
    if (prev === undefined || prev < at) this.logins.set(apiKeyId, at);
  }

  peekKeyLogin(apiKeyId: string): number | undefined {
    return this.logins.get(apiKeyId);
  }

  /** The newest buffered use of a token not yet written, for reads that want it now. */
  peek(tokenId: string): TokenUsage | undefined {
    return this.pending.get(tokenId);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.pending.size === 0 && this.logins.size === 0) return;
    const batch = [...this.pending.values()];
    const logins = [...this.logins].map(([apiKeyId, at]) => ({ apiKeyId, at }));
    this.pending = new Map();
    this.logins = new Map();
    this.flushing = this.store
      .transaction(async (tx) => {
        await recordTokenUsage(tx, batch);
        await recordKeyLogins(tx, logins);
      })
      .catch((e) => {
        // Put the batch back (newer entries win) so the next flush retries it.
        for (const u of batch) if (!this.pending.has(u.tokenId)) this.pending.set(u.tokenId, u);
        for (const l of logins) if (!this.logins.has(l.apiKeyId)) this.logins.set(l.apiKeyId, l.at);
        this.onError(e);
      })
      .finally(() => {
        this.flushing = null;
      });
    await this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
