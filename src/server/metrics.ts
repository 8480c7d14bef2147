/** Prometheus metrics: requests by route and status, latency, and verification outcomes. */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { VerificationService } from '../services/verification.js';

export function installMetrics(app: FastifyInstance, verification: VerificationService): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keyward_process_' });
  const requests = new Counter({
    name: 'keyward_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'keyward_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const verifications = new Counter({
    name: 'keyward_verifications_total',
    help: 'Token verifications by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const byOutcome = new Map<string, Counter.Internal>();
  verification.onOutcome = (outcome) => {
    let c = byOutcome.get(outcome);
    if (c === undefined) byOutcome.set(outcome, (c = verifications.labels(outcome)));
    c.inc();
  };
  const cache = verification.cache;
  new Gauge({ name: 'keyward_verification_cache_entries', help: 'Entries in the verification cache', registers: [registry], collect() { this.set(cache.size); } });
  new Gauge({ name: 'keyward_verification_cache_enabled', help: '1 while the verification cache is in use (0 while invalidations could be missed)', registers: [registry], collect() { this.set(cache.enabled ? 1 : 0); } });
  new Gauge({ name: 'keyward_verification_cache_hits', help: 'Verification cache hits since start', registers: [registry], collect() { this.set(cache.hits); } });
  new Gauge({ name: 'keyward_verification_cache_misses', help: 'Verification cache misses since start', registers: [registry], collect() { this.set(cache.misses); } });

  // Label children are bound once per route, method and status: prom-client's labelled inc/observe
  // would hash the label object on every request.
  const bound = new Map<string, { count: Counter.Internal; time: Histogram.Internal<'route' | 'method'> }>();
  app.addHook('onResponse', (req, reply, done) => {
    // The route pattern, never the raw URL, so that ids and tokens never become label values.
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const key = `${status} ${req.method} ${route}`;
    let b = bound.get(key);
    if (b === undefined) {
      b = { count: requests.labels(route, req.method, String(status)), time: latency.labels(route, req.method) };
      bound.set(key, b);
    }
    b.count.inc();
    b.time.observe(reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return registry;
}
