/**
 * Lifecycle webhooks end to end (docs/webhooks.md): a real HTTP receiver verifies every delivery
 * with standardwebhooks' own `verify`; events of mutations are queued in the mutation's
 * transaction; time events come from the sweeper; a receiver that is down gets everything after a
 * Keyward restart; two nodes on PostgreSQL never send one delivery twice; replay resends.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { makeScope } from '../../../src/domain/scope.js';
import { WEBHOOK_EVENTS } from '../../../src/domain/webhooks.js';
import { SYSTEM_CALLER } from '../../../src/services/context.js';
import { enqueueWebhookEvents } from '../../../src/services/webhookEvents.js';
import { loadConfig } from '../../../src/server/config.js';
import { createKeyward, type Keyward } from '../../../src/server/keyward.js';
import { openStore } from '../../../src/store/database.js';
import { describeEachDb, pgUrl, type DbKind } from '../../helpers/databases.js';
import { HttpClient, startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { expectNativeError, issueUserToken } from '../../helpers/nativeApi.js';
import { WebhookReceiver } from '../../helpers/webhookReceiver.js';

const DAY = 24 * 60 * 60 * 1000;
const MASTER_KEY = randomBytes(32).toString('base64');
const FAST = {
  masterKey: MASTER_KEY,
  webhookIntervalMs: 50,
  webhookRetryBaseMs: 100,
  webhookRetryMaxMs: 200,
  webhookSweepMs: 3_600_000,
  maxTokensPerApiKey: 100,
};

describeEachDb('lifecycle webhooks', (kind: DbKind) => {
  let k: TestKeyward;
  let rx: WebhookReceiver;
  let acc: string;
  const extra: Keyward[] = [];

  beforeEach(async () => {
    k = await startKeyward(kind, { config: FAST });
    acc = k.admin.accountId;
    rx = await new WebhookReceiver().start();
  });

  afterEach(async () => {
    for (const e of extra.splice(0)) await e.close();
    await rx.stop();
    await k.close();
  });

  async function endpoint(body: Record<string, unknown> = {}, on: HttpClient = k.http): Promise<{ id: string; secret: string }> {
    const res = await on.post(`/v1/accounts/${acc}/webhooks`, { url: rx.url, description: 'test receiver', ...body });
    expect(res.status, res.text).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    return { id: res.body.endpoint.id, secret: res.body.secret };
  }

  /** A new Keyward on the same database (the previous one closed), listening. */
  async function restart(config: Record<string, unknown> = {}): Promise<Keyward> {
    const store =
      kind === 'sqlite'
        ? await openStore({ sqliteFile: k.testStore.sqliteFile! })
        : await openStore({ databaseUrl: pgUrl()!, pgSchema: k.testStore.pgSchema!, poolSize: 5 });
    const again = await createKeyward({ config: loadConfig({}, { port: 0, host: '127.0.0.1', ...FAST, ...config }), clock: k.clock, store, announce: () => undefined });
    extra.push(again);
    await again.listen();
    return again;
  }

  const owner = () => ({ scope: makeScope(acc), type: 'USER' as const, parentIdentifier: k.admin.userId });

  it('sends every event type, each signed with the endpoint secret, and never logs or returns the secret again', async () => {
    const ep = await endpoint();
    // token.created, then token.rotated
    const { tokenId } = await issueUserToken(k, acc, k.admin.userId);
    const created = await k.keyward.services.tokens.byId(tokenId);
    await k.keyward.services.tokens.rotate(SYSTEM_CALLER, owner(), 'personal', created!.identifier);
    // token.deleted
    await k.keyward.services.tokens.delete(SYSTEM_CALLER, owner(), 'personal', created!.identifier);
    // service_account.deactivated (native PATCH)
    await k.keyward.services.serviceAccounts.create(SYSTEM_CALLER, makeScope(acc), { identifier: 'bot', name: 'bot', email: 'bot@service.harness.io' });
    expect((await k.http.patch(`/v1/accounts/${acc}/service-accounts/bot`, { active: false })).status).toBe(200);
    // token.leaked and token.revoked (the account's own report)
    const leaked = await issueUserToken(k, acc, k.admin.userId);
    const rep = await k.http.post(`/v1/accounts/${acc}/leaks`, [{ token: leaked.token, type: 'keyward', url: 'https://example.test/leak' }]);
    expect(rep.status, rep.text).toBe(200);
    expect(rep.body[0].label).toBe('true_positive');
    const listed = await k.http.get(`/v1/accounts/${acc}/webhooks`);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((e: { id: string }) => e.id)).toEqual([ep.id]);
    expect(listed.text).not.toContain(ep.secret);
    // token.expiring (1 day lead), then token.expired and token.unused, from the sweeper
    const soon = await issueUserToken(k, acc, k.admin.userId, { validTo: k.clock.now() + DAY / 2 });
    const idle = await issueUserToken(k, acc, k.admin.userId, { validTo: k.clock.now() + 365 * DAY });
    expect(await k.keyward.services.webhookSweeper.runOnce()).toBeGreaterThan(0);
    k.clock.advance(DAY);
    await k.keyward.services.webhookSweeper.runOnce();
    k.clock.advance(31 * DAY);
    await k.keyward.services.webhookSweeper.runOnce();

    await rx.waitFor(() => WEBHOOK_EVENTS.every((t) => rx.received.some((r) => r.type === t)));
    for (const r of rx.received) {
      expect(() => WebhookReceiver.verify(r, ep.secret)).not.toThrow();
      expect(() => WebhookReceiver.verify(r, `whsec_${randomBytes(32).toString('base64')}`)).toThrow();
      expect(r.payload.accountId).toBe(acc);
      expect(r.body).not.toContain(leaked.token);
    }
    const expiring = rx.received.filter((r) => r.type === 'token.expiring' && r.payload.data.tokenId === soon.tokenId);
    expect(expiring.map((r) => r.payload.data.leadMs)).toEqual([DAY]);
    // Unused: only tokens still valid (an expired one is announced as expired instead).
    const unused = rx.received.filter((r) => r.type === 'token.unused').map((r) => r.payload.data.tokenId);
    expect(unused).toContain(idle.tokenId);
    expect(unused).not.toContain(soon.tokenId);
    const leakEvent = rx.received.find((r) => r.type === 'token.leaked')!;
    expect(leakEvent.payload.data).toMatchObject({ tokenId: leaked.tokenId, url: 'https://example.test/leak' });
    // Announced once: sweeping again queues nothing, and no time event reached the receiver twice.
    expect(await k.keyward.services.webhookSweeper.runOnce()).toBe(0);
    const timed = rx.received.filter((r) => ['token.expiring', 'token.expired', 'token.unused'].includes(r.type));
    expect(new Set(timed.map((r) => `${r.type}/${String(r.payload.data.tokenId)}/${String(r.payload.data.leadMs)}`)).size).toBe(timed.length);
    expect(k.logs.join('\n')).not.toContain(ep.secret);
  });

  it('honours the event filter and a disabled endpoint', async () => {
    const only = await endpoint({ events: ['token.deleted'] });
    await endpoint({ enabled: false });
    const { tokenId } = await issueUserToken(k, acc, k.admin.userId);
    const t = await k.keyward.services.tokens.byId(tokenId);
    await k.keyward.services.tokens.delete(SYSTEM_CALLER, owner(), 'personal', t!.identifier);
    await rx.waitFor((r) => r.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received.map((r) => r.type)).toEqual(['token.deleted']);
    expect(() => WebhookReceiver.verify(rx.received[0]!, only.secret)).not.toThrow();
  });

  it('sends token.deleted for every token a project or organization deletion takes with it', async () => {
    const ep = await endpoint({ events: ['token.deleted'] });
    const scopes = k.keyward.services.scopes;
    await scopes.createOrganization(SYSTEM_CALLER, acc, { identifier: 'wh_org', name: 'wh_org' });
    await scopes.createProject(SYSTEM_CALLER, acc, 'wh_org', { identifier: 'wh_proj', name: 'wh_proj' });
    // Tokens of service accounts in the project, in the organization and in the account (a USER key is the account's).
    const issue = async (scope: ReturnType<typeof makeScope>, identifier: string) => {
      const sa = `sa_${identifier}`;
      await k.keyward.services.serviceAccounts.create(SYSTEM_CALLER, scope, { identifier: sa, name: sa, email: `${sa}@service.harness.io` });
      const owner = { scope, type: 'SERVICE_ACCOUNT' as const, parentIdentifier: sa };
      return (await k.keyward.services.tokens.create(SYSTEM_CALLER, owner, { identifier, name: identifier, apiKeyIdentifier: 'wh_key' }, { autoCreateKey: true })).token.id;
    };
    const inProject = [await issue(makeScope(acc, 'wh_org', 'wh_proj'), 'p1'), await issue(makeScope(acc, 'wh_org', 'wh_proj'), 'p2')];
    const inOrg = await issue(makeScope(acc, 'wh_org'), 'o1');
    const outside = await issue(makeScope(acc), 'a1');
    const deleted = () => rx.received.filter((r) => r.type === 'token.deleted').map((r) => r.payload.data.tokenId as string);

    await scopes.deleteProject(SYSTEM_CALLER, acc, 'wh_org', 'wh_proj');
    await rx.waitFor(() => deleted().length >= 2);
    expect(deleted().sort()).toEqual([...inProject].sort());
    await scopes.deleteOrganization(SYSTEM_CALLER, acc, 'wh_org');
    await rx.waitFor(() => deleted().length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(deleted().sort()).toEqual([...inProject, inOrg].sort());
    expect(deleted()).not.toContain(outside);
    for (const r of rx.received) expect(() => WebhookReceiver.verify(r, ep.secret)).not.toThrow();
  });

  it('announces a deactivation once when several arrive at once, and keeps a rename made meanwhile', async () => {
    await endpoint({ events: ['service_account.deactivated'] });
    await k.keyward.services.serviceAccounts.create(SYSTEM_CALLER, makeScope(acc), { identifier: 'twice', name: 'twice', email: 'twice@service.harness.io' });
    const path = `/v1/accounts/${acc}/service-accounts/twice`;
    const sa = (await k.keyward.services.serviceAccounts.get(SYSTEM_CALLER, makeScope(acc), 'twice'))!;
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => k.http.patch(path, { active: false })),
      k.keyward.services.serviceAccounts.update(SYSTEM_CALLER, makeScope(acc), 'twice', { identifier: 'twice', name: 'renamed', email: sa.email, tags: {} }),
    ]);
    for (const r of answers.slice(0, 5)) expect((r as { status: number }).status).toBe(200);
    await rx.waitFor((r) => r.length >= 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(rx.received.map((r) => r.type)).toEqual(['service_account.deactivated']);
    const now = (await k.keyward.services.serviceAccounts.get(SYSTEM_CALLER, makeScope(acc), 'twice'))!;
    expect(now).toMatchObject({ name: 'renamed', active: false });
  });

  it('sends nothing for a refused or rolled-back change', async () => {
    const ep = await endpoint();
    const { tokenId } = await issueUserToken(k, acc, k.admin.userId);
    const t = (await k.keyward.services.tokens.byId(tokenId))!;
    await rx.waitFor((r) => r.length === 1);
    // A refused mutation (the identifier is taken): nothing queued.
    await expect(
      k.keyward.services.tokens.create(SYSTEM_CALLER, owner(), { identifier: t.identifier, name: 'dup', apiKeyIdentifier: 'personal' }),
    ).rejects.toMatchObject({ kind: 'conflict' });
    // Events queued inside a transaction that then rolls back: nothing queued either.
    await expect(
      k.keyward.store.transaction(async (tx) => {
        expect(await enqueueWebhookEvents(tx, [{ type: 'token.revoked', accountId: acc, data: {} }], k.clock.now())).toBe(1);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    await new Promise((r) => setTimeout(r, 400));
    expect(rx.received.map((r) => r.type)).toEqual(['token.created']);
    const log = await k.http.get(`/v1/accounts/${acc}/webhooks/${ep.id}/deliveries`);
    expect(log.body.deliveries).toHaveLength(1);
  });

  it('a receiver that is down gets every event once it is back, after a Keyward restart', async () => {
    const ep = await endpoint();
    rx.answer = 500;
    const a = await issueUserToken(k, acc, k.admin.userId);
    await rx.waitFor((r) => r.length >= 1);
    await rx.stop(); // now connections are refused
    const b = await issueUserToken(k, acc, k.admin.userId);
    k.clock.advance(1000);
    await new Promise((r) => setTimeout(r, 300));
    const log = await k.http.get(`/v1/accounts/${acc}/webhooks/${ep.id}/deliveries`);
    expect(log.body.attempts.length).toBeGreaterThanOrEqual(2);
    expect(log.body.attempts.some((x: { statusCode: number | null }) => x.statusCode === 500)).toBe(true);
    expect(log.body.attempts.some((x: { statusCode: number | null; error: string }) => x.statusCode === null && /ECONNREFUSED/.test(x.error))).toBe(true);
    expect(log.body.attempts[0].durationMs).toBeGreaterThanOrEqual(0);

    // Stop this Keyward; start a new one on the same database; the receiver comes back.
    await k.keyward.close();
    await restart();
    rx.answer = 200;
    await rx.start();
    k.clock.advance(1000);
    await rx.waitFor((r) => [a.tokenId, b.tokenId].every((id) => r.some((x) => x.status === 200 && x.payload.data.tokenId === id)));
    for (const r of rx.accepted()) expect(() => WebhookReceiver.verify(r, ep.secret)).not.toThrow();
    // The retried delivery kept its webhook-id.
    const ofA = rx.received.filter((r) => r.payload.data.tokenId === a.tokenId);
    expect(new Set(ofA.map((r) => r.id)).size).toBe(1);
  });

  it('replays a delivery with the same webhook-id, and refuses a replay of another endpoint\'s delivery', async () => {
    const ep = await endpoint();
    const other = await endpoint({ events: ['token.leaked'] });
    await issueUserToken(k, acc, k.admin.userId);
    await rx.waitFor((r) => r.length === 1);
    // The receiver has it; the attempt is recorded just after its answer.
    const logOf = () => k.http.get(`/v1/accounts/${acc}/webhooks/${ep.id}/deliveries`);
    await expect.poll(async () => (await logOf()).body.deliveries[0].status).toBe('succeeded');
    const log = await logOf();
    const id = log.body.deliveries[0].id as string;
    expectNativeError(await k.http.post(`/v1/accounts/${acc}/webhooks/${other.id}/deliveries/${id}/replay`), 404);
    expect((await k.http.post(`/v1/accounts/${acc}/webhooks/${ep.id}/deliveries/${id}/replay`)).status).toBe(202);
    await rx.waitFor((r) => r.length === 2);
    expect(rx.received[1]!.id).toBe(id);
    expect(rx.received[1]!.body).toBe(rx.received[0]!.body);
    expect(() => WebhookReceiver.verify(rx.received[1]!, ep.secret)).not.toThrow();
  });

  it('refuses bad endpoints with a 400, and private addresses when told to', async () => {
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'not a url', 'http://user:pw@example.com/']) {
      expectNativeError(await k.http.post(`/v1/accounts/${acc}/webhooks`, { url }), 400, { field: 'url' });
    }
    expectNativeError(await k.http.post(`/v1/accounts/${acc}/webhooks`, { url: rx.url, events: ['token.nope'] }), 400);
    expectNativeError(await k.anon.get(`/v1/accounts/${acc}/webhooks`), 401);
    await k.close();
    k = await startKeyward(kind, { config: { ...FAST, webhookAllowPrivate: false } });
    acc = k.admin.accountId;
    const ep = await endpoint();
    await issueUserToken(k, acc, k.admin.userId);
    let attempts: Array<{ error: string }> = [];
    for (let i = 0; i < 100 && attempts.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      attempts = (await k.http.get(`/v1/accounts/${acc}/webhooks/${ep.id}/deliveries`)).body.attempts;
    }
    expect(attempts[0]!.error).toMatch(/private/);
    expect(rx.received).toHaveLength(0);
  });

  it('a master-key rotation re-seals endpoint secrets: deliveries stay signed with the same secret once the old key is gone', async () => {
    const ep = await endpoint();
    const sealedBefore = (await k.keyward.store.db.selectFrom('webhook_endpoints').select('secret_sealed').executeTakeFirstOrThrow()).secret_sealed;
    expect(sealedBefore).not.toContain(ep.secret.slice(6));
    await k.keyward.close();
    const newKey = randomBytes(32).toString('base64');
    const rotated = await restart({ masterKey: newKey, masterKeyPrevious: [MASTER_KEY] });
    const sealedAfter = (await rotated.store.db.selectFrom('webhook_endpoints').select('secret_sealed').executeTakeFirstOrThrow()).secret_sealed;
    expect(sealedAfter.split('.')[1]).not.toBe(sealedBefore.split('.')[1]);
    await rotated.close();
    const onlyNew = await restart({ masterKey: newKey, masterKeyPrevious: [] });
    await issueUserToken({ ...k, keyward: onlyNew }, acc, k.admin.userId);
    await rx.waitFor((r) => r.length === 1);
    expect(() => WebhookReceiver.verify(rx.received[0]!, ep.secret)).not.toThrow();
  });

  it('rotating the secret signs later deliveries with the new one', async () => {
    const ep = await endpoint();
    const rotated = await k.http.post(`/v1/accounts/${acc}/webhooks/${ep.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(ep.secret);
    await issueUserToken(k, acc, k.admin.userId);
    await rx.waitFor((r) => r.length === 1);
    expect(() => WebhookReceiver.verify(rx.received[0]!, rotated.body.secret)).not.toThrow();
    expect(() => WebhookReceiver.verify(rx.received[0]!, ep.secret)).toThrow();
  });
});

describeEachDb('webhooks on two nodes', (kind: DbKind) => {
  it.runIf(kind === 'postgres')('two nodes claiming the same queue never send one delivery twice', async () => {
    const k = await startKeyward(kind, { config: { ...FAST, webhookIntervalMs: 3_600_000 } });
    const rx = await new WebhookReceiver().start();
    const store = await openStore({ databaseUrl: pgUrl()!, pgSchema: k.testStore.pgSchema!, poolSize: 5 });
    const b = await createKeyward({ config: loadConfig({}, { port: 0, host: '127.0.0.1', ...FAST, webhookIntervalMs: 3_600_000 }), clock: k.clock, store, announce: () => undefined });
    try {
      const acc = k.admin.accountId;
      expect((await k.http.post(`/v1/accounts/${acc}/webhooks`, { url: rx.url })).status).toBe(201);
      for (let i = 0; i < 30; i++) await issueUserToken(k, acc, k.admin.userId);
      // Both nodes claim and send at the same moments, round after round, until the queue is empty.
      for (let round = 0; round < 20 && rx.received.length < 30; round++) {
        await Promise.all([k.keyward.services.webhookDispatcher.runOnce(), b.services.webhookDispatcher.runOnce(), k.keyward.services.webhookDispatcher.runOnce()]);
      }
      expect(rx.received).toHaveLength(30);
      expect(new Set(rx.received.map((r) => r.id)).size).toBe(30);
    } finally {
      await b.close();
      await rx.stop();
      await k.close();
    }
  });
});
