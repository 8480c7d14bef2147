/**
 * The SDK's subscription to GET /v1/accounts/{accountId}/invalidations (Server-Sent Events over the
 * global fetch). Connected means: the server sent `ready`, so every later invalidation of the
 * account reaches us in order. Reconnects after any loss with a jittered, capped exponential backoff
 * and sends Last-Event-ID, so the server replays what was missed or says `reset`. A connection that
 * is silent for longer than a few heartbeats is treated as lost.
 */
import { SseParser, type SseEvent } from './sse.js';
import type { Invalidation } from './types.js';

export interface BackoffOptions {
  /** First retry after about this long (jittered). Default 100 ms. */
  initialMs: number;
  /** Retries never further apart than this. Default 5 s. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000 };

export interface StreamHandlers {
  /** An invalidation to apply. */
  invalidate(e: Invalidation): void;
  /** Everything may have changed (reset, or a fresh connection that cannot replay): flush. */
  flush(reason: string): void;
  /** In step from now on. */
  connected(): void;
  /** Not in step any more (until the next `connected`). */
  disconnected(reason: string): void;
}

export interface StreamConfig {
  url: () => Promise<string>;
  headers: Record<string, string>;
  fetch: typeof fetch;
  backoff: BackoffOptions;
  /** Silence longer than this (no event, no heartbeat) ends the connection. Default: 3 heartbeats, else 60 s. */
  idleTimeoutMs?: number;
}

export class InvalidationSubscriber {
  connected = false;
  lastEventId: string | null = null;
  reconnects = 0;
  events = 0;
  lastError: string | null = null;
  private started = false;
  private stopped = false;
  private attempt = 0;
  private abort: AbortController | null = null;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly config: StreamConfig,
    private readonly handlers: StreamHandlers,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.loop();
  }

  /** Resolves when the stream is (next) in step, or after `timeoutMs` (then false). */
  waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.readyWaiters.push(done);
    });
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    this.down('stopped');
  }

  private async loop(): Promise<void> {
    let first = true;
    while (!this.stopped) {
      if (!first) this.reconnects++;
      first = false;
      try {
        await this.connectOnce();
        this.lastError = 'the server ended the stream';
      } catch (e) {
        this.lastError = (e as Error).message;
      }
      this.down(this.lastError ?? 'lost');
      if (this.stopped) break;
      await this.sleep(this.nextDelay());
    }
  }

  /** Equal jitter: half the capped exponential delay, plus up to the other half at random. */
  private nextDelay(): number {
    const { initialMs, maxMs } = this.config.backoff;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return base / 2 + Math.random() * (base / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
      this.sleepTimer.unref();
    });
  }

  private down(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.handlers.disconnected(reason);
  }

  private async connectOnce(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    const sentLastId = this.lastEventId;
    const headers: Record<string, string> = { ...this.config.headers, accept: 'text/event-stream' };
    if (sentLastId !== null) headers['last-event-id'] = sentLastId;
    let idleMs = this.config.idleTimeoutMs ?? 60_000;
    let idle: NodeJS.Timeout | null = null;
    const activity = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
      idle.unref();
    };
    const onEvent = (e: SseEvent) => {
      if (e.id !== undefined) this.lastEventId = e.id;
      if (e.event === 'invalidate') {
        this.events++;
        this.handlers.invalidate(JSON.parse(e.data) as Invalidation);
      } else if (e.event === 'reset') {
        this.events++;
        this.handlers.flush('reset');
      } else if (e.event === 'ready') {
        const info = JSON.parse(e.data) as { heartbeatMs?: number };
        if (this.config.idleTimeoutMs === undefined && info.heartbeatMs && info.heartbeatMs > 0) idleMs = info.heartbeatMs * 3;
        activity();
        // A connection that sent no Last-Event-ID replays nothing: what was cached before may be stale.
        if (sentLastId === null) this.handlers.flush('new stream');
        this.attempt = 0;
        this.connected = true;
        this.handlers.connected();
        for (const w of this.readyWaiters.splice(0)) w();
      }
    };
    const parser = new SseParser(onEvent, activity);
    try {
      activity();
      const res = await this.config.fetch(await this.config.url(), { headers, signal: abort.signal });
      if (res.status !== 200 || !res.body) {
        const text = await res.text().catch(() => '');
        throw new Error(`the invalidation stream answered ${res.status}: ${text.slice(0, 200)}`);
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } finally {
      if (idle) clearTimeout(idle);
      abort.abort();
    }
  }
}
