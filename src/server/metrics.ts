/** Prometheus metrics: requests by route and status, latency, and verification outcomes. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { VerificationService } from '../services/verification.js';
import type { Services } from '../services/index.js';

/** Latency buckets of keyward_http_request_duration_seconds, in seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Latency {
  labels: string;
  /** Per bucket (not cumulative); the last slot is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface RequestSeries {
  labels: string;
  count: number;
  latency: Latency;
}

/** A Prometheus label value: backslash, double quote and newline escaped. */
function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * The request counter and latency histogram. Each route gets its own onResponse hook
 * (`hookFor(route)`, added when the route is registered), holding its route label and its series
 * by method and status, so a request pays two small map lookups and no label string.
 */
export class RequestMetrics {
  readonly requests = new Map<string, RequestSeries>();
  readonly latencies = new Map<string, Latency>();

  private series(route: string, method: string, status: number): RequestSeries {
    const key = `${status} ${method} ${route}`;
    let series = this.requests.get(key);
    if (series === undefined) {
      const lkey = `${method} ${route}`;
      let latency = this.latencies.get(lkey);
      if (latency === undefined) {
        latency = { labels: `route="${labelValue(route)}",method="${labelValue(method)}"`, counts: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 };
        this.latencies.set(lkey, latency);
      }
      series = { labels: `route="${labelValue(route)}",method="${labelValue(method)}",status="${status}"`, count: 0, latency };
      this.requests.set(key, series);
    }
    return series;
  }

  /** The onResponse hook of one route (its pattern, never the raw URL, so ids and tokens never become labels). */
  hookFor(route: string): (req: FastifyRequest, reply: FastifyReply, done: () => void) => void {
    const observe = this.observerFor(route);
    return (req, reply, done) => {
      observe(req.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
  }

  /** Counts one answer of `route` and its latency; what hookFor does for Fastify, for a route's fast path too. */
  observerFor(route: string): (method: string, status: number, seconds: number) => void {
    const byMethod = new Map<string, Map<number, RequestSeries>>();
    return (method, status, seconds) => {
      let byStatus = byMethod.get(method);
      if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
      let series = byStatus.get(status);
      if (series === undefined) byStatus.set(status, (series = this.series(route, method, status)));
      series.count++;
      const l = series.latency;
      let i = 0;
      while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
      l.counts[i]!++;
      l.sum += seconds;
      l.count++;
    };
  }
}

/**
 * Per-request metrics are plain numbers in maps, turned into Prometheus text only when scraped:
 * prom-client's labelled inc/observe hash their labels on every call, which cost a fifth of a
 * cached verification's throughput over HTTP. Process metrics and gauges stay in prom-client.
 */
export function installMetrics(app: FastifyInstance, perRequest: RequestMetrics, verification: VerificationService, services?: Services, fastPaths?: { served: number }): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keyward_process_' });
  const { requests, latencies } = perRequest;
  const outcomes = new Map<string, number>();
  verification.onOutcome = (outcome) => {
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  };
  const cache = verification.cache;
  new Gauge({ name: 'keyward_verification_cache_entries', help: 'Entries in the verification cache', registers: [registry], collect() { this.set(cache.size); } });
  new Gauge({ name: 'keyward_verification_cache_enabled', help: '1 while the verification cache is in use (0 while invalidations could be missed)', registers: [registry], collect() { this.set(cache.enabled ? 1 : 0); } });
  new Gauge({ name: 'keyward_verification_cache_hits', help: 'Verification cache hits since start', registers: [registry], collect() { this.set(cache.hits); } });
  new Gauge({ name: 'keyward_verification_cache_misses', help: 'Verification cache misses since start', registers: [registry], collect() { this.set(cache.misses); } });
  new Gauge({ name: 'keyward_verification_stale_answers', help: 'Verifications answered stale from the cache (database unreachable, within KEYWARD_STALE_IF_ERROR_MS) since start', registers: [registry], collect() { this.set(verification.staleAnswers); } });
  new Gauge({ name: 'keyward_verification_unavailable', help: 'Verifications refused with 503 (database unreachable, no usable cached answer) since start', registers: [registry], collect() { this.set(verification.unavailable); } });
  if (fastPaths) {
    new Gauge({ name: 'keyward_http_fast_path_answers', help: 'Requests answered on a route\'s fast path, before routing (the plain GET /v1/verify with a cached token), since start', registers: [registry], collect() { this.set(fastPaths.served); } });
  }
  if (services) {
    const { store, auditOutbox } = services.ctx;
    new Gauge({ name: 'keyward_database_reachable', help: '0 from a connectivity failure until the database answers again, else 1', registers: [registry], collect() { this.set(store.health.isDown ? 0 : 1); } });
    new Gauge({ name: 'keyward_database_connectivity_failures', help: 'Queries that failed for connectivity since start', registers: [registry], collect() { this.set(store.health.failures); } });
    new Gauge({ name: 'keyward_audit_outbox_events', help: 'Audit events waiting for the database', registers: [registry], collect() { this.set(auditOutbox.size); } });
    new Gauge({ name: 'keyward_audit_outbox_dropped', help: 'Audit events dropped because the outbox was full, since start', registers: [registry], collect() { this.set(auditOutbox.dropped); } });
    const stream = services.invalidationStream;
    new Gauge({ name: 'keyward_invalidation_stream_connections', help: 'Open invalidation streams (GET /v1/accounts/{id}/invalidations)', registers: [registry], collect() { this.set(stream.connections); } });
    new Gauge({ name: 'keyward_invalidation_stream_slow_dropped', help: 'Invalidation stream subscribers disconnected for not reading fast enough, since start', registers: [registry], collect() { this.set(stream.slowDropped); } });
    new Gauge({ name: 'keyward_usage_pending', help: 'Tokens and keys whose last use waits to be written', registers: [registry], collect() { this.set(services.usage.pendingCount); } });
    new Gauge({ name: 'keyward_usage_dropped', help: 'Last uses not buffered because the buffer was full, since start', registers: [registry], collect() { this.set(services.usage.dropped); } });
  }

  const render = (): string => {
    const out: string[] = [];
    out.push('# HELP keyward_http_requests_total HTTP requests by route, method and status', '# TYPE keyward_http_requests_total counter');
    for (const s of requests.values()) out.push(`keyward_http_requests_total{${s.labels}} ${s.count}`);
    out.push('# HELP keyward_http_request_duration_seconds HTTP request latency by route', '# TYPE keyward_http_request_duration_seconds histogram');
    for (const l of latencies.values()) {
      let cumulative = 0;
      for (let i = 0; i < BUCKETS.length; i++) {
        cumulative += l.counts[i]!;
        out.push(`keyward_http_request_duration_seconds_bucket{le="${BUCKETS[i]}",${l.labels}} ${cumulative}`);
      }
      out.push(`keyward_http_request_duration_seconds_bucket{le="+Inf",${l.labels}} ${l.count}`);
      out.push(`keyward_http_request_duration_seconds_sum{${l.labels}} ${l.sum}`);
      out.push(`keyward_http_request_duration_seconds_count{${l.labels}} ${l.count}`);
    }
    out.push('# HELP keyward_verifications_total Token verifications by outcome', '# TYPE keyward_verifications_total counter');
    for (const [outcome, n] of outcomes) out.push(`keyward_verifications_total{outcome="${labelValue(outcome)}"} ${n}`);
    return `${out.join('\n')}\n`;
  };

  app.get('/metrics', { schema: { hide: true, response: { 200: { type: 'string', description: 'Prometheus text exposition format' } } } }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    const base = await registry.metrics();
    return `${base}${base.endsWith('\n') || base === '' ? '' : '\n'}${render()}`;
  });
  return registry;
}
