/**
 * The baseline for bench/http-verify.ts: a bare node:http server doing the least any verifier over
 * HTTP must do, and nothing else. POST /v1/verify: read the JSON body {token}, SHA-256 of the
 * secret, one Map lookup, constant-time compare, JSON answer. GET /v1/verify (forward auth): the
 * token from X-Api-Key, the same check, a small JSON answer. GET /ng/api/apikey/aggregate/<id>:
 * read the query, the same check on X-Api-Key, JSON answer. GET /healthz: a canned answer. The
 * answers are the same objects Keyward answers with (handed over by the bench), serialized on
 * every request.
 *   node --import tsx bench/bare-server.ts <setup.json> <port>
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

interface Setup {
  /** Harness NG tokens: pat.<account>.<24 hex id>.<secret>. */
  tokens: string[];
  /** Keyward's answer to a valid verify, to the forward-auth GET, and to the aggregate GET, for the first token. */
  verifyAnswer: Record<string, unknown>;
  leanAnswer: Record<string, unknown>;
  getAnswer: Record<string, unknown>;
}

const [file, portArg] = process.argv.slice(2);
const setup = JSON.parse(readFileSync(file!, 'utf8')) as Setup;

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const byId = new Map<string, { digest: Buffer; answer: Record<string, unknown> }>();
for (const t of setup.tokens) {
  const [, , id, secret] = t.split('.');
  byId.set(id!, { digest: sha256(secret!), answer: { ...setup.verifyAnswer, tokenId: id } });
}
const DUMMY = Buffer.alloc(32);

function check(token: unknown): Record<string, unknown> | null {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 4) return null;
  const digest = sha256(parts[3]!);
  const entry = byId.get(parts[2]!);
  const ok = timingSafeEqual(entry ? entry.digest : DUMMY, digest);
  return ok && entry ? entry.answer : null;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/v1/verify') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let token: unknown;
      try {
        token = (JSON.parse(Buffer.concat(chunks).toString()) as { token?: unknown }).token;
      } catch {
        return send(res, 400, { message: 'body must be JSON' });
      }
      const answer = check(token);
      send(res, 200, answer ?? { valid: false, reason: 'unknown' });
    });
    return;
  }
  if (req.method === 'GET' && req.url === '/v1/verify') {
    const answer = check(req.headers['x-api-key']);
    return send(res, answer ? 200 : 401, answer ? setup.leanAnswer : { valid: false, reason: 'unknown' });
  }
  if (req.method === 'GET' && req.url?.startsWith('/ng/api/apikey/aggregate/')) {
    const url = new URL(req.url, 'http://localhost');
    const answer = check(req.headers['x-api-key']);
    if (!answer || !url.searchParams.get('accountIdentifier')) return send(res, 401, { status: 'ERROR', code: 'INVALID_TOKEN' });
    return send(res, 200, setup.getAnswer);
  }
  if (req.method === 'GET' && req.url === '/healthz') return send(res, 200, { status: 'ok' });
  send(res, 404, { message: 'not found' });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(portArg), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
