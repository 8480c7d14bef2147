/**
 * Filtering, sorting and paging (docs/compat/zenml.md), as the Python client sends them: every
 * value a Python str() (`True`/`False`), quote_plus-encoded (so a datetime's space is `+`), with
 * `hydrate`, `sort_by`, `logical_operator`, `page` and `size` always present.
 *
 * The data set, created one second apart on the test clock (T0 = 2026-01-15 12:00:00):
 *   +0s alpha (desc "3"), +1s Alpha-two ("12"), +2s beta ("7"), +3s gamma:delta ("40") and zeta ("5.5")
 *   at the same instant, +4s omega ("100", inactive).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { API, adminClient, createApiKey, createServiceAccount, expectDetail, rawRequest, type ZenClient, type ZenResponse } from './client.js';

const SA = '/service_accounts';

describeEachDb('zenml conformance: filters, sorting and pages (docs/compat/zenml.md)', (kind) => {
  let k: TestKeyward;
  let z: ZenClient;
  const byName: Record<string, any> = {};

  /** Names of a list's items, in order. */
  const names = (res: ZenResponse) => {
    expect(res.status, res.text).toBe(200);
    return (res.body.items as Array<{ name: string }>).map((i) => i.name);
  };
  const sorted = (res: ZenResponse) => [...names(res)].sort();
  const byHex = (a: string, b: string) => (byName[a].id.replace(/-/g, '') < byName[b].id.replace(/-/g, '') ? -1 : 1);

  beforeAll(async () => {
    k = await startKeyward(kind);
    z = adminClient(k);
    const plan: Array<[string, string, number]> = [
      ['alpha', '3', 0],
      ['Alpha-two', '12', 1000],
      ['beta', '7', 1000],
      ['gamma:delta', '40', 1000],
      ['zeta', '5.5', 0],
      ['omega', '100', 1000],
    ];
    for (const [name, desc, advance] of plan) {
      k.clock.advance(advance);
      byName[name] = await createServiceAccount(z, name, desc);
    }
    await z.put('/service_accounts/omega', { active: false });
  });
  afterAll(async () => k?.close());

  describe('string operators', () => {
    it('equals, with and without the op prefix', async () => {
      expect(names(await z.list(SA, { name: 'equals:beta' }))).toEqual(['beta']);
      expect(names(await z.list(SA, { name: 'beta' }))).toEqual(['beta']);
      expect(names(await z.list(SA, { name: 'equals:Beta' }))).toEqual([]);
    });

    it('`op:value` splits only on a known op: name=gamma:delta is equals "gamma:delta"; equals:gamma:delta too', async () => {
      expect(names(await z.list(SA, { name: 'gamma:delta' }))).toEqual(['gamma:delta']);
      expect(names(await z.list(SA, { name: 'equals:gamma:delta' }))).toEqual(['gamma:delta']);
      expect(names(await z.list(SA, { name: 'startswith:gamma:' }))).toEqual(['gamma:delta']);
    });

    it('notequals', async () => {
      expect(sorted(await z.list(SA, { name: 'notequals:beta' }))).toEqual(['Alpha-two', 'alpha', 'gamma:delta', 'omega', 'zeta']);
    });

    it('contains, startswith and endswith (case-insensitive LIKE, as on ZenML\'s SQLite and MySQL)', async () => {
      expect(sorted(await z.list(SA, { name: 'contains:LPH' }))).toEqual(['Alpha-two', 'alpha']);
      expect(sorted(await z.list(SA, { name: 'startswith:alpha' }))).toEqual(['Alpha-two', 'alpha']);
      expect(sorted(await z.list(SA, { name: 'endswith:TA' }))).toEqual(['beta', 'gamma:delta', 'zeta']);
      expect(sorted(await z.list(SA, { description: 'contains:0' }))).toEqual(['gamma:delta', 'omega']);
    });

    it('oneof takes a JSON list; anything else → 422 with ZenML\'s message', async () => {
      expect(sorted(await z.list(SA, { name: 'oneof:["alpha","beta","nope"]' }))).toEqual(['alpha', 'beta']);
      expect(sorted(await z.list(SA, { name: 'oneof:[]' }))).toEqual([]);
      const msg = "When you are using the 'oneof:' filtering make sure that the provided value is a json formatted list.";
      expectDetail(await z.list(SA, { name: 'oneof:alpha,beta' }), 422, 'ValueError', msg);
      expectDetail(await z.list(SA, { name: 'oneof:{"a":1}' }), 422, 'ValueError', msg);
    });

    it('gt, gte, lt and lte compare the column as a number, not as text', async () => {
      expect(sorted(await z.list(SA, { description: 'gt:5' }))).toEqual(['Alpha-two', 'beta', 'gamma:delta', 'omega', 'zeta']);
      expect(sorted(await z.list(SA, { description: 'gte:7' }))).toEqual(['Alpha-two', 'beta', 'gamma:delta', 'omega']);
      expect(sorted(await z.list(SA, { description: 'lt:7' }))).toEqual(['alpha', 'zeta']);
      expect(sorted(await z.list(SA, { description: 'lte:7' }))).toEqual(['alpha', 'beta', 'zeta']);
      expectDetail(await z.list(SA, { description: 'gt:seven' }), 422, 'ValueError');
    });
  });

  describe('UUID (id)', () => {
    it('a full id, bare, with equals:, and in upper case → that one; notequals → the others', async () => {
      const id = byName.beta.id as string;
      expect(names(await z.list(SA, { id }))).toEqual(['beta']);
      expect(names(await z.list(SA, { id: `equals:${id}` }))).toEqual(['beta']);
      expect(names(await z.list(SA, { id: id.toUpperCase() }))).toEqual(['beta']);
      expect(names(await z.list(SA, { id: `notequals:${id}` }))).not.toContain('beta');
      expect((await z.list(SA, { id: `notequals:${id}` })).body.total).toBe(5);
    });

    it('equals / notequals need a valid UUID → 422 "Invalid value passed as UUID query parameter."', async () => {
      expectDetail(await z.list(SA, { id: 'not-a-uuid' }), 422, 'ValueError', 'Invalid value passed as UUID query parameter.');
      expectDetail(await z.list(SA, { id: 'notequals:1234' }), 422, 'ValueError', 'Invalid value passed as UUID query parameter.');
    });

    it('startswith matches hyphen-less hex; a hyphenated prefix has its hyphens stripped', async () => {
      const id = byName.beta.id as string;
      const hex = id.replace(/-/g, '');
      expect(names(await z.list(SA, { id: `startswith:${hex.slice(0, 10)}` }))).toEqual(['beta']);
      expect(names(await z.list(SA, { id: `startswith:${id.slice(0, 11)}` }))).toEqual(['beta']);
      expect(names(await z.list(SA, { id: `contains:${hex.slice(12, 24)}` }))).toEqual(['beta']);
      expect(names(await z.list(SA, { id: `endswith:${hex.slice(-10)}` }))).toEqual(['beta']);
    });
  });

  describe('datetimes', () => {
    it('op values in %Y-%m-%d %H:%M:%S (the space sent as +): gte, gt, lt, lte, equals, notequals', async () => {
      expect(sorted(await z.list(SA, { created: 'gte:2026-01-15 12:00:02' }))).toEqual(['beta', 'gamma:delta', 'omega', 'zeta']);
      expect(sorted(await z.list(SA, { created: 'gt:2026-01-15 12:00:02' }))).toEqual(['gamma:delta', 'omega', 'zeta']);
      expect(sorted(await z.list(SA, { created: 'lt:2026-01-15 12:00:01' }))).toEqual(['alpha']);
      expect(sorted(await z.list(SA, { created: 'lte:2026-01-15 12:00:01' }))).toEqual(['Alpha-two', 'alpha']);
      expect(sorted(await z.list(SA, { created: 'equals:2026-01-15 12:00:03' }))).toEqual(['gamma:delta', 'zeta']);
      expect((await z.list(SA, { created: 'notequals:2026-01-15 12:00:03' })).body.total).toBe(4);
      expect((await z.list(SA, { created: 'gte:2026-01-15 12:00:00' })).body.total).toBe(6);
    });

    it('in:<a>,<b> is an inclusive range', async () => {
      expect(sorted(await z.list(SA, { created: 'in:2026-01-15 12:00:01,2026-01-15 12:00:02' }))).toEqual(['Alpha-two', 'beta']);
    });

    it('an op value with T, fractions or an offset → 422; so is a string operator', async () => {
      expectDetail(await z.list(SA, { created: 'gte:2026-01-15T12:00:00' }), 422, 'ValueError');
      expectDetail(await z.list(SA, { created: 'gte:2026-01-15 12:00:00.500000' }), 422, 'ValueError');
      expectDetail(await z.list(SA, { created: 'lt:2026-01-15' }), 422, 'ValueError');
      expectDetail(await z.list(SA, { created: 'in:2026-01-15 12:00:01' }), 422, 'ValueError');
      expectDetail(await z.list(SA, { created: 'contains:2026' }), 422, 'ValueError');
    });

    it('a bare value is parsed as a datetime (T or space, fractions): equals', async () => {
      expect(names(await z.list(SA, { created: '2026-01-15T12:00:02' }))).toEqual(['beta']);
      // What the Python client's str(datetime) gives.
      expect(names(await z.list(SA, { created: '2026-01-15 12:00:02' }))).toEqual(['beta']);
      expect(names(await z.list(SA, { created: '2026-01-15 12:00:02.000000' }))).toEqual(['beta']);
      expectDetail(await z.list(SA, { created: 'yesterday' }), 422, 'ValueError');
    });
  });

  describe('active (bool)', () => {
    it('True / False as the client sends them, and the other spellings pydantic accepts', async () => {
      expect((await z.list(SA, { active: true })).body.total).toBe(5);
      expect(names(await z.list(SA, { active: false }))).toEqual(['omega']);
      expect((await z.list(SA, { active: 'true' })).body.total).toBe(5);
      expect(names(await z.list(SA, { active: '0' }))).toEqual(['omega']);
      expectDetail(await z.list(SA, { active: 'maybe' }), 422, 'ValueError');
    });

    it('ZenML\'s quirk: active=equals:false is bool("false"), i.e. True', async () => {
      expect((await z.list(SA, { active: 'equals:false' })).body.total).toBe(5);
    });
  });

  describe('logical_operator', () => {
    it('and (the default) intersects, or unites', async () => {
      expect(names(await z.list(SA, { name: 'startswith:a', description: 'equals:3' }))).toEqual(['alpha']);
      expect(sorted(await z.list(SA, { name: 'equals:alpha', description: 'equals:7' }, { logical_operator: 'or' }))).toEqual(['alpha', 'beta']);
      expect(names(await z.list(SA, { name: 'equals:alpha', description: 'equals:7' }))).toEqual([]);
    });

    it('or with no field filter matches nothing; and with none matches everything', async () => {
      const or = await z.list(SA, {}, { logical_operator: 'or' });
      expect(or.body).toEqual({ index: 1, max_size: 20, total_pages: 1, total: 0, items: [] });
      expect((await z.list(SA, {}, { logical_operator: 'and' })).body.total).toBe(6);
    });

    it('anything else → 422', async () => {
      expectDetail(await z.list(SA, {}, { logical_operator: 'xor' }), 422, 'ValueError');
    });
  });

  describe('sorting', () => {
    it('sort_by=created (the default) ascending, with id ascending as the tiebreaker', async () => {
      const tie = ['gamma:delta', 'zeta'].sort(byHex);
      expect(names(await z.list(SA))).toEqual(['alpha', 'Alpha-two', 'beta', ...tie, 'omega']);
      expect(names(await z.list(SA, {}, { sort_by: 'asc:created' }))).toEqual(['alpha', 'Alpha-two', 'beta', ...tie, 'omega']);
    });

    it('sort_by=desc:created: newest first, the tie still by id ascending', async () => {
      const tie = ['gamma:delta', 'zeta'].sort(byHex);
      expect(names(await z.list(SA, {}, { sort_by: 'desc:created' }))).toEqual(['omega', ...tie, 'beta', 'Alpha-two', 'alpha']);
    });

    it('by name (binary order, as SQLite compares) and by id', async () => {
      expect(names(await z.list(SA, {}, { sort_by: 'name' }))).toEqual(['Alpha-two', 'alpha', 'beta', 'gamma:delta', 'omega', 'zeta']);
      expect(names(await z.list(SA, {}, { sort_by: 'desc:name' }))).toEqual(['zeta', 'omega', 'gamma:delta', 'beta', 'alpha', 'Alpha-two']);
      const all = Object.keys(byName).sort(byHex);
      expect(names(await z.list(SA, {}, { sort_by: 'id' }))).toEqual(all);
    });

    it('sorting combines with filters and pages', async () => {
      const page = await z.list(SA, { active: true }, { sort_by: 'desc:created', size: 2, page: 2 });
      expect(page.body).toMatchObject({ index: 2, max_size: 2, total_pages: 3, total: 5 });
      expect(names(page)).toEqual(['beta', 'Alpha-two']);
    });

    it('an unknown field, or one that is not a filter field → 422', async () => {
      for (const s of ['nope', 'desc:nope', 'page', 'size', 'logical_operator', 'sort_by', 'hydrate']) {
        expectDetail(await z.list(SA, {}, { sort_by: s }), 422, 'ValueError');
      }
    });
  });

  describe('pages', () => {
    it('Page shape: index, max_size, total_pages, total, items', async () => {
      const p1 = await z.list(SA, {}, { size: 4 });
      expect(Object.keys(p1.body).sort()).toEqual(['index', 'items', 'max_size', 'total', 'total_pages']);
      expect(p1.body).toMatchObject({ index: 1, max_size: 4, total_pages: 2, total: 6 });
      expect(p1.body.items).toHaveLength(4);
      const p2 = await z.list(SA, {}, { size: 4, page: 2 });
      expect(p2.body).toMatchObject({ index: 2, max_size: 4, total_pages: 2, total: 6 });
      expect(p2.body.items).toHaveLength(2);
      expect([...names(p1), ...names(p2)].sort()).toEqual(Object.keys(byName).sort());
    });

    it('defaults without the parameters (raw callers): page 1, size 20', async () => {
      const res = await z.request('GET', SA);
      expect(res.body).toMatchObject({ index: 1, max_size: 20, total_pages: 1, total: 6 });
    });

    it('size 1..10000: 0 and 10001 → 422; 10000 is fine; page 0 → 422', async () => {
      expectDetail(await z.list(SA, {}, { size: 0 }), 422, 'ValueError');
      expectDetail(await z.list(SA, {}, { size: 10001 }), 422, 'ValueError');
      expect((await z.list(SA, {}, { size: 10000 })).body.max_size).toBe(10000);
      expectDetail(await z.list(SA, {}, { page: 0 }), 422, 'ValueError');
    });

    it('a non-integer page or size is FastAPI\'s request-validation 422: a bare array', async () => {
      for (const q of [{ page: 'two' }, { size: '1.5' }]) {
        const res = await z.request('GET', SA, { params: { hydrate: false, sort_by: 'created', logical_operator: 'and', page: 1, size: 20, ...q } });
        expect(res.status).toBe(422);
        expect(Array.isArray(res.body)).toBe(true);
        expect(res.body[0]).toBe('ValueError');
      }
    });

    it('a page past the end → 400 with ZenML\'s exact message', async () => {
      expectDetail(
        await z.list(SA, {}, { size: 4, page: 3 }),
        400,
        'ValueError',
        'Invalid page 3. The requested page size is 4 and there are a total of 6 items for this query. The maximum page value therefore is 2.',
      );
      expectDetail(
        await z.list(SA, { name: 'equals:nobody' }, { page: 2 }),
        400,
        'ValueError',
        'Invalid page 2. The requested page size is 20 and there are a total of 0 items for this query. The maximum page value therefore is 1.',
      );
      expect((await z.list(SA, { name: 'equals:nobody' }, { page: 1 })).body).toEqual({ index: 1, max_size: 20, total_pages: 1, total: 0, items: [] });
    });
  });

  describe("the client's name-then-prefix lookup (Client._get_entity_by_id_or_name_or_prefix)", () => {
    /** The client's two list calls for `x`: the exact name, then OR of id and name prefixes. */
    async function resolve(path: string, x: string): Promise<{ exact: number; prefix: string[] }> {
      const exact = await z.list(path, { name: `equals:${x}` }, { hydrate: true });
      expect(exact.status).toBe(200);
      if (exact.body.total === 1) return { exact: 1, prefix: [] };
      const pre = await z.list(path, { id: `startswith:${x}`, name: `startswith:${x}` }, { hydrate: true, logical_operator: 'or' });
      return { exact: exact.body.total, prefix: names(pre) };
    }

    it('service accounts: an exact name wins; a unique name prefix or id prefix resolves; an ambiguous one gives two', async () => {
      expect(await resolve(SA, 'beta')).toEqual({ exact: 1, prefix: [] });
      expect(await resolve(SA, 'bet')).toEqual({ exact: 0, prefix: ['beta'] });
      const idPrefix = (byName.zeta.id as string).slice(0, 8);
      expect((await resolve(SA, idPrefix)).prefix).toContain('zeta');
      expect((await resolve(SA, 'alp')).prefix.sort()).toEqual(['Alpha-two', 'alpha']);
      expect(await resolve(SA, 'nothing-like-it')).toEqual({ exact: 0, prefix: [] });
    });

    it("API keys, with the client's exact query string", async () => {
      const sa = byName.alpha;
      await createApiKey(z, sa.id, 'default');
      const deploy = await createApiKey(z, sa.id, 'deploy');
      const path = `${SA}/${sa.id}/api_keys`;
      const raw = await rawRequest(k.url, 'GET', `${API}${path}?hydrate=True&sort_by=created&logical_operator=and&page=1&size=20&name=equals%3Adefault`, {
        headers: { authorization: `Bearer ${k.admin.token}` },
      });
      expect(raw.status).toBe(200);
      expect(raw.body.total).toBe(1);
      expect(raw.body.items[0].name).toBe('default');
      expect(raw.body.items[0].metadata).not.toBeNull();

      expect(await resolve(path, 'dep')).toEqual({ exact: 0, prefix: ['deploy'] });
      expect((await resolve(path, deploy.id.slice(0, 6))).prefix).toContain('deploy');
      expect((await resolve(path, 'de')).prefix.sort()).toEqual(['default', 'deploy']);
    });
  });

  describe('API key filters', () => {
    it('active, last_rotated and last_login filter keys; a never-rotated key has no last_rotated', async () => {
      const sa = byName.beta;
      const path = `${SA}/${sa.id}/api_keys`;
      await createApiKey(z, sa.id, 'plain');
      await createApiKey(z, sa.id, 'rotated');
      await createApiKey(z, sa.id, 'off');
      k.clock.advance(60_000);
      await z.put(`${path}/rotated/rotate`, {});
      await z.put(`${path}/off`, { name: null, description: null, active: false });

      expect(sorted(await z.list(path, { active: true }))).toEqual(['plain', 'rotated']);
      expect(names(await z.list(path, { active: false }))).toEqual(['off']);
      expect(names(await z.list(path, { last_rotated: 'gte:2026-01-15 12:00:00' }))).toEqual(['rotated']);
      expect(names(await z.list(path, { last_login: 'gte:2026-01-15 12:00:00' }))).toEqual([]);
      expect(names(await z.list(path, { updated: 'gt:2026-01-15 12:00:10' }, { sort_by: 'name' }))).toEqual(['off', 'rotated']);
      expect(names(await z.list(path, {}, { sort_by: 'desc:name' }))).toEqual(['rotated', 'plain', 'off']);
    });

    it('service_account is not a sort field for keys → 422', async () => {
      const path = `${SA}/${byName.beta.id}/api_keys`;
      expectDetail(await z.list(path, {}, { sort_by: 'service_account' }), 422, 'ValueError');
      expectDetail(await z.list(path, {}, { sort_by: 'desc:service_account' }), 422, 'ValueError');
    });
  });
});
