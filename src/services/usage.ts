/**
 * Last-used data (time, IP, user agent per token) and verification counts (per token, hour and
 * outcome) are buffered in memory and written in batches, so verification never writes to the
 * database. A crash loses at most one interval of this data. While the database cannot be reached a
 * failed batch is put back (newer uses win) and written once it answers again; the last-used buffer
 * holds one entry per token, bounded by `maxPending` (past it, uses of further tokens are counted in
 * `dropped` until a batch is written).
 */
import type { Store } from '../store/database.js';
import { recordTokenUsage, type TokenUsage } from '../store/tokens.js';
import { recordKeyLogins } from '../store/apiKeys.js';
import { addHourlyUsage, pruneHourlyUsage, readHourlyUsage, type HourlyCount } from '../store/usage.js';

export const HOUR_MS = 3_600_000;
/** Counts older than this are pruned: the longest view is 30 days. */
export const USAGE_RETENTION_MS = 31 * 24 * HOUR_MS;

/**
 * The outcomes counted per token: a verification that found the token (valid, or refused for its
 * window, its rotation, its key or its principal). Indexes into a token's counts.
 */
export const USAGE_OUTCOMES = ['valid', 'expired', 'rotated_out', 'not_yet_valid', 'key_inactive', 'principal_inactive'] as const;
export type UsageOutcome = (typeof USAGE_OUTCOMES)[number];
export const OUTCOME_INDEX: Readonly<Record<UsageOutcome, number>> = Object.freeze(
  Object.fromEntries(USAGE_OUTCOMES.map((o, i) => [o, i])) as Record<UsageOutcome, number>,
);

/** One token's counts in one hour; allocated once per token and hour, then only incremented. */
interface HourCounts {
  tokenId: string;
  hour: number;
  counts: Uint32Array;
}

export class UsageRecorder {
  private pending = new Map<string, TokenUsage>();
  /** ZenML's last_login per API key. */
  private logins = new Map<string, number>();
  /** The current hour's counts per token. */
  private hourly = new Map<string, HourCounts>();
  /** Counts of earlier hours not yet written. */
  private closed: HourCounts[] = [];
  private lastPrune = 0;
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

  /**
   * Counts one verification of a token by outcome (an index of USAGE_OUTCOMES). On the hot path: a
   * Map lookup and an increment; a new hour allocates one small array per token.
   */
  count(tokenId: string, at: number, outcome: number): void {
    const e = this.hourly.get(tokenId);
    // Two comparisons, no division, on the common path.
    if (e !== undefined && at >= e.hour && at < e.hour + HOUR_MS) {
      e.counts[outcome]!++;
      return;
    }
    const hour = at - (at % HOUR_MS);
    const next: HourCounts = { tokenId, hour, counts: new Uint32Array(USAGE_OUTCOMES.length) };
    next.counts[outcome] = 1;
    if (e !== undefined) {
      // A use stamped in an earlier hour than the current entry (clocks differ) goes in on its own.
      if (hour < e.hour) {
        this.closed.push(next);
        return;
      }
      this.closed.push(e);
    }
    this.hourly.set(tokenId, next);
  }

  /** Counts not yet written for these tokens from `fromHour` on, for reads that want them now. */
  peekCounts(tokenIds: ReadonlySet<string>, fromHour: number): HourlyCount[] {
    const out: HourlyCount[] = [];
    const add = (e: HourCounts) => {
      if (e.hour < fromHour || !tokenIds.has(e.tokenId)) return;
      e.counts.forEach((n, i) => n > 0 && out.push({ tokenId: e.tokenId, hour: e.hour, outcome: USAGE_OUTCOMES[i]!, count: n }));
    };
    for (const e of this.closed) add(e);
    for (const e of this.hourly.values()) add(e);
    return out;
  }

  /** How many flushes have taken data: a read that sees it change retries. */
  private flushes = 0;

  /**
   * Verifications of these tokens per hour and outcome from `fromHour` on, written and pending
   * together, summed over the tokens; hours with none are left out. The caller has checked that
   * the reader may see the tokens.
   */
  async hourlyCounts(tokenIds: string[], fromHour: number): Promise<Array<{ hour: number } & Record<UsageOutcome, number>>> {
    const ids = new Set(tokenIds);
    // Pending counts and stored ones, read with no flush in between (else a batch would count twice).
    let pending: HourlyCount[] = [];
    let stored: HourlyCount[] = [];
    for (let attempt = 0; ; attempt++) {
      while (this.flushing) await this.flushing;
      const generation = this.flushes;
      pending = this.peekCounts(ids, fromHour);
      stored = await readHourlyUsage(this.store.db, tokenIds, fromHour);
      if (generation === this.flushes || attempt >= 3) break;
    }
    const byHour = new Map<number, { hour: number } & Record<UsageOutcome, number>>();
    for (const c of [...stored, ...pending]) {
      let h = byHour.get(c.hour);
      if (!h) {
        h = { hour: c.hour, valid: 0, expired: 0, rotated_out: 0, not_yet_valid: 0, key_inactive: 0, principal_inactive: 0 };
        byHour.set(c.hour, h);
      }
      if ((USAGE_OUTCOMES as readonly string[]).includes(c.outcome)) h[c.outcome as UsageOutcome] += c.count;
    }
    return [...byHour.values()].sort((a, b) => a.hour - b.hour);
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
    if (this.pending.size === 0 && this.logins.size === 0 && this.hourly.size === 0 && this.closed.length === 0) return;
    const batch = [...this.pending.values()];
    const logins = [...this.logins].map(([apiKeyId, at]) => ({ apiKeyId, at }));
    const counted = [...this.closed, ...this.hourly.values()];
    this.pending = new Map();
    this.logins = new Map();
    this.hourly = new Map();
    this.closed = [];
    this.flushes++;
    const counts: HourlyCount[] = [];
    for (const e of counted) e.counts.forEach((n, i) => n > 0 && counts.push({ tokenId: e.tokenId, hour: e.hour, outcome: USAGE_OUTCOMES[i]!, count: n }));
    const newest = counted.reduce((m, e) => Math.max(m, e.hour), 0);
    const prune = newest - this.lastPrune >= HOUR_MS ? newest - USAGE_RETENTION_MS : null;
    this.flushing = this.store
      .transaction(async (tx) => {
        await recordTokenUsage(tx, batch);
        await recordKeyLogins(tx, logins);
        await addHourlyUsage(tx, counts);
        if (prune !== null) await pruneHourlyUsage(tx, prune);
      })
      .then(() => {
        if (prune !== null) this.lastPrune = newest;
      })
      .catch((e) => {
        // Put the batch back (newer entries win; counts add up) so the next flush retries it.
        for (const u of batch) if (!this.pending.has(u.tokenId)) this.pending.set(u.tokenId, u);
        for (const l of logins) if (!this.logins.has(l.apiKeyId)) this.logins.set(l.apiKeyId, l.at);
        this.closed.push(...counted);
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
