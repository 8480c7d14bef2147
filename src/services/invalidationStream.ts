/**
 * The invalidation stream: every invalidation this node hears on its bus (its own mutations, and
 * those other nodes announce over PostgreSQL, src/store/notify.ts), numbered `<node>-<seq>` and kept
 * in a bounded ring so that a subscriber that reconnects with the last id it saw gets what it
 * missed. A subscriber receives only its own account's events; an event whose account is not known
 * (and `all`) goes to every subscriber as `{"kind":"all"}`, a flush that names nothing.
 *
 * The HTTP side (Server-Sent Events) is src/protocols/native/invalidations.ts; the SDK that applies
 * the events to its cache is packages/sdk/src/cache.ts.
 */
import { randomBytes } from 'node:crypto';
import { UnavailableError } from '../domain/errors.js';
import { P, RESOURCE } from '../domain/permissions.js';
import { makeScope } from '../domain/scope.js';
import type { Verified } from '../domain/verification.js';
import type { AccessService } from './access.js';
import type { Caller, Invalidation, InvalidationBus } from './context.js';

export interface StreamOptions {
  /** Events kept for replay (per node). */
  bufferEvents: number;
  /** A subscriber whose unsent output exceeds this is dropped (it reconnects and replays or resets). */
  maxPendingBytes: number;
  /** Interval of the comment lines that keep idle connections (and proxies) open; 0: none. */
  heartbeatMs: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = { bufferEvents: 1024, maxPendingBytes: 1024 * 1024, heartbeatMs: 15_000 };

/** Where a subscriber's frames go (the HTTP response). */
export interface StreamSink {
  write(frame: string): void;
  /** Bytes written but not yet sent. */
  pending(): number;
  close(): void;
}

/** Who subscribes: the account it may watch, and the credential it subscribed with. */
export interface Subscription {
  accountId: string;
  verified: Verified;
  /**
   * Asked again when an event touches the subscriber's own credential; false ends the stream, so a
   * revoked token does not keep listening.
   */
  stillAllowed: () => Promise<boolean>;
}

interface BufferedEvent {
  seq: number;
  accountId: string | null;
  frame: string;
}

interface Subscriber {
  sub: Subscription;
  sink: StreamSink;
  closed: boolean;
}

/** The account an invalidation concerns, or null when it does not say (then every subscriber flushes). */
function accountOf(e: Invalidation): string | null {
  if (e.kind === 'all') return null;
  return e.accountId ?? null;
}

/** Whether the event concerns the credential a subscriber connected with. */
function touches(e: Invalidation, v: Verified): boolean {
  switch (e.kind) {
    case 'token':
      return e.tokenIds.includes(v.tokenId);
    case 'apiKey':
      return e.apiKeyIds.includes(v.apiKeyId);
    case 'principal':
      return e.principalId === v.principal.id;
    case 'permissions':
      return e.accountId === v.accountId;
    case 'all':
      return true;
  }
}

function frame(id: string, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class InvalidationStreamService {
  /** This node's part of every event id; ids from other nodes are not known here. */
  readonly nodeId = randomBytes(6).toString('hex');
  private seq = 0;
  /** Events with seq <= floor are never replayed (the node was out of step after them). */
  private floor = 0;
  private readonly ring: BufferedEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private heartbeat: NodeJS.Timeout | null = null;
  private inStep = true;
  /** Subscribers dropped because they did not read fast enough, since start. */
  slowDropped = 0;
  /** Streams begun since start. */
  opened = 0;

  constructor(
    bus: InvalidationBus,
    private readonly access: AccessService,
    readonly options: StreamOptions = DEFAULT_STREAM_OPTIONS,
  ) {
    bus.on((e) => this.push(e));
  }

  get connections(): number {
    return this.subscribers.size;
  }

  get lastEventId(): string {
    return `${this.nodeId}-${this.seq}`;
  }

  /** Who may subscribe to an account's invalidations: whoever may view the account (core_account_view). */
  async authorize(caller: Caller, accountId: string): Promise<void> {
    await this.access.require(caller, P.accountView, { type: RESOURCE.account, identifier: accountId }, makeScope(accountId));
  }

  private push(e: Invalidation): void {
    const seq = ++this.seq;
    const accountId = accountOf(e);
    const data = accountId === null ? { kind: 'all' } : e;
    const ev: BufferedEvent = { seq, accountId, frame: frame(`${this.nodeId}-${seq}`, 'invalidate', data) };
    this.ring.push(ev);
    if (this.ring.length > this.options.bufferEvents) this.ring.shift();
    for (const s of this.subscribers) {
      if (accountId !== null && accountId !== s.sub.accountId) continue;
      this.write(s, ev.frame);
      if (touches(e, s.sub.verified)) this.recheck(s);
    }
  }

  private recheck(s: Subscriber): void {
    s.sub.stillAllowed().then(
      (ok) => ok || this.drop(s),
      () => undefined, // the database could not say: keep the stream (the credential was valid when it connected)
    );
  }

  private write(s: Subscriber, chunk: string): void {
    if (s.closed) return;
    if (s.sink.pending() > this.options.maxPendingBytes) {
      this.slowDropped++;
      this.drop(s);
      return;
    }
    s.sink.write(chunk);
  }

  private drop(s: Subscriber): void {
    if (s.closed) return;
    s.closed = true;
    this.subscribers.delete(s);
    s.sink.close();
    if (this.subscribers.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  /**
   * The frames a new subscriber starts with: the events it missed (when `lastEventId` is this node's
   * and they are all still buffered) or a `reset` (flush everything), then `ready` with the current
   * id. Refused (503) while this node may be missing other nodes' invalidations.
   */
  subscribe(sub: Subscription, lastEventId: string | undefined, sink: StreamSink): { unsubscribe: () => void } {
    this.assertAccepting();
    const s: Subscriber = { sub, sink, closed: false };
    const frames: string[] = [];
    if (lastEventId !== undefined && lastEventId !== '') {
      const missed = this.missedSince(lastEventId);
      if (missed === null) frames.push(frame(this.lastEventId, 'reset', { reason: 'unknown_last_event_id' }));
      else for (const ev of missed) if (ev.accountId === null || ev.accountId === sub.accountId) frames.push(ev.frame);
    }
    frames.push(frame(this.lastEventId, 'ready', { node: this.nodeId, accountId: sub.accountId, heartbeatMs: this.options.heartbeatMs }));
    this.subscribers.add(s);
    this.opened++;
    sink.write(frames.join(''));
    if (this.heartbeat === null && this.options.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => {
        for (const x of this.subscribers) this.write(x, ': heartbeat\n\n');
      }, this.options.heartbeatMs);
      this.heartbeat.unref();
    }
    return { unsubscribe: () => this.drop(s) };
  }

  /** Throws (503) while this node may be missing other nodes' invalidations. */
  assertAccepting(): void {
    if (!this.inStep) throw new UnavailableError('This node is not receiving invalidations from the other nodes; retry shortly', 'postgresql', 1);
  }

  /** The buffered events after `id`, or null when `id` is not this node's or some are no longer buffered. */
  private missedSince(id: string): BufferedEvent[] | null {
    const dash = id.lastIndexOf('-');
    if (dash < 0 || id.slice(0, dash) !== this.nodeId) return null;
    const text = id.slice(dash + 1);
    if (!/^\d{1,15}$/.test(text)) return null;
    const last = Number(text);
    if (last > this.seq || last < this.floor) return null;
    const oldest = this.ring.length > 0 ? this.ring[0]!.seq : this.seq + 1;
    if (last < oldest - 1) return null;
    return this.ring.filter((ev) => ev.seq > last);
  }

  /**
   * This node may be missing invalidations (its PostgreSQL listener dropped): end every stream (each
   * SDK stops trusting its cache and reconnects) and refuse new ones until `resume`; nothing from
   * before is replayed afterwards, so reconnecting subscribers get a `reset`.
   */
  suspend(): void {
    this.inStep = false;
    this.floor = this.seq + 1;
    this.ring.length = 0;
    for (const s of [...this.subscribers]) this.drop(s);
  }

  resume(): void {
    this.inStep = true;
  }

  /** Ends every stream (the server is shutting down). */
  closeAll(): void {
    for (const s of [...this.subscribers]) this.drop(s);
  }
}
