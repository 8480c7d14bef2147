/**
 * ZenML's store-test behaviour 9 (docs/compat/zenml.md: 100 parallel creates of one name make exactly one account),
 * the same race for API key names, and the audit trail: every ZenML mutation writes one audit event
 * (docs/architecture.md), readable with `GET /v1/accounts/<acc>/audit`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { adminClient, createApiKey, createServiceAccount, expectDetail, login, type ZenClient } from './client.js';

interface AuditEvent {
  action: string;
  outcome: 'success' | 'failure';
  actorType: string;
  actorId: string;
  resourceType: string;
  resourceId: string;
  details: Record<string, unknown>;
  requestId: string | null;
}

describeEachDb('zenml conformance: races and audit', (kind) => {
  let k: TestKeyward;
  let z: ZenClient;

  beforeAll(async () => {
    k = await startKeyward(kind);
    z = adminClient(k);
  });
  afterAll(async () => k?.close());

  async function audit(action: string): Promise<AuditEvent[]> {
    const res = await k.http.get(`/v1/accounts/${k.admin.accountId}/audit`, { query: { action, limit: 500 } });
    expect(res.status, res.text).toBe(200);
    return res.body.items as AuditEvent[];
  }

  it('9.9 100 parallel creates of one service-account name: exactly one account, 99 × 409', async () => {
    const results = await Promise.all(Array.from({ length: 100 }, () => z.post('/service_accounts', { name: 'racer', description: null, active: true })));
    const ok = results.filter((r) => r.status === 200);
    const conflicts = results.filter((r) => r.status === 409);
    expect(ok).toHaveLength(1);
    expect(conflicts).toHaveLength(99);
    for (const r of conflicts) expectDetail(r, 409, 'EntityExistsError', /'racer'/);
    const list = await z.list('/service_accounts', { name: 'equals:racer' });
    expect(list.body.total).toBe(1);
    expect(list.body.items[0].id).toBe(ok[0]!.body.id);

    const events = await audit('serviceaccount.create');
    expect(events.filter((e) => e.outcome === 'success')).toHaveLength(1);
    expect(events.filter((e) => e.outcome === 'failure')).toHaveLength(99);
  });

  it('parallel updates of different fields of one service account all land (no lost update)', async () => {
    for (let round = 0; round < 5; round++) {
      const sa = await createServiceAccount(z, `patched-${round}`);
      const answers = await Promise.all([
        z.put(`/service_accounts/${sa.id}`, { description: `described ${round}` }),
        z.put(`/service_accounts/${sa.id}`, { active: false }),
        z.put(`/service_accounts/${sa.id}`, { name: `renamed-${round}` }),
      ]);
      for (const r of answers) expect(r.status, r.text).toBe(200);
      const now = await z.get(`/service_accounts/${sa.id}`);
      expect(now.body.name).toBe(`renamed-${round}`);
      expect(now.body.metadata.description).toBe(`described ${round}`);
      expect(now.body.body.active).toBe(false);
    }
  });

  it('30 parallel creates of one key name in one account: exactly one key', async () => {
    const sa = await createServiceAccount(z, 'key-racer');
    const results = await Promise.all(Array.from({ length: 30 }, () => z.post(`/service_accounts/${sa.id}/api_keys`, { name: 'default', description: null })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const rest = results.filter((r) => r.status !== 200);
    expect(rest).toHaveLength(29);
    for (const r of rest) expectDetail(r, 409, 'EntityExistsError', /^Unable to register API key with name 'default'/);
    expect((await z.list(`/service_accounts/${sa.id}/api_keys`)).body.total).toBe(1);
    // The one key that exists is the one whose value was handed out, and it logs in.
    const winner = results.find((r) => r.status === 200)!;
    await login(k.url, winner.body.body.key);
  });

  describe('audit', () => {
    let sa: any;
    let key: any;

    beforeAll(async () => {
      sa = await createServiceAccount(z, 'audited', 'watched');
      await z.put(`/service_accounts/${sa.id}`, { description: 'still watched' });
      key = await createApiKey(z, sa.id, 'default');
      await z.put(`/service_accounts/${sa.id}/api_keys/default`, { name: null, description: null, active: false });
      await z.put(`/service_accounts/${sa.id}/api_keys/default/rotate`, { retain_period_minutes: 3 });
      await z.delete(`/service_accounts/${sa.id}/api_keys/default`);
      await z.delete(`/service_accounts/${sa.id}`);
    });

    it('every ZenML mutation writes one success event, by the admin, naming what it touched', async () => {
      const expectations: Array<[string, (e: AuditEvent) => boolean]> = [
        ['serviceaccount.create', (e) => e.details.id === sa.id && e.details.name === 'audited' && e.details.protocol === 'zenml'],
        ['serviceaccount.update', (e) => e.details.id === sa.id],
        ['apikey.create', (e) => e.details.id === key.id && e.details.name === 'default' && e.details.protocol === 'zenml'],
        ['apikey.update', (e) => e.details.id === key.id && e.details.active === false],
        ['apikey.rotate', (e) => e.details.id === key.id && e.details.retainPeriodMinutes === 3],
        ['apikey.delete', () => true],
        ['serviceaccount.delete', () => true],
      ];
      for (const [action, matches] of expectations) {
        const events = (await audit(action)).filter((e) => e.outcome === 'success');
        const mine = events.filter(matches);
        expect(mine.length, `${action}: ${JSON.stringify(events)}`).toBeGreaterThanOrEqual(1);
        for (const e of mine) {
          expect(e.actorType).toBe('USER');
          expect(e.actorId).toBe(k.admin.userId);
          expect(e.resourceId).not.toBe('');
        }
      }
      // The delete events name the deleted key and account by their Keyward identifiers.
      const deletes = (await audit('serviceaccount.delete')).filter((e) => e.outcome === 'success');
      expect(deletes.some((e) => e.resourceId === `sa_${sa.id.replace(/-/g, '')}`)).toBe(true);
    });

    it('a refused mutation is audited as a failure; reads and logins are not mutations', async () => {
      const failures = async () => (await audit('serviceaccount.update')).filter((e) => e.outcome === 'failure');
      const before = await failures();
      expectDetail(await z.put('/service_accounts/no-such-account', { active: false }), 404, 'KeyError');
      const after = await failures();
      expect(after.length).toBe(before.length + 1);
      expect(after.some((e) => e.resourceId === 'no-such-account' && e.actorId === k.admin.userId)).toBe(true);

      const all = async () => (await k.http.get(`/v1/accounts/${k.admin.accountId}/audit`, { query: { limit: 500 } })).body.items.length as number;
      const count = await all();
      const other = await createServiceAccount(z, 'audited-reads');
      const created = await createApiKey(z, other.id, 'default');
      const afterCreates = await all();
      expect(afterCreates).toBe(count + 2);
      await z.get(`/service_accounts/${other.id}`);
      await z.list('/service_accounts');
      await login(k.url, created.body.key);
      expect(await all()).toBe(afterCreates);
    });
  });
});
