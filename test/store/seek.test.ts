/**
 * Remembered positions (src/store/seek.ts, migration 0014): a deep page of a token list starts from a
 * row remembered by an earlier deep page, or walks there a stride at a time. Every page must be the one
 * a plain forward read gives, before and after every kind of change to the list (a row joins, leaves,
 * moves in the order), on both databases; a known list must not walk again; and a change that does not
 * touch the list's order (last use) must not make it forget.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SortOrder } from '../../src/domain/paging.js';
import type { ApiKey, Token } from '../../src/domain/model.js';
import { deleteApiKey } from '../../src/store/apiKeys.js';
import { Positions, configurePositions, deepStart, nearestStart, rebased, type Generation, type Mark } from '../../src/store/seek.js';
import { deleteToken, getTokenById, insertToken, listTokens, recordTokenUsage, tokenListGeneration, updateToken, type TokenFilter } from '../../src/store/tokens.js';
import { describeEachDb } from '../helpers/databases.js';
import { DAY, addServiceAccount, openServiceWorld, saOwner, type ServiceWorld } from '../helpers/services.js';

describe('nearestStart', () => {
  const marks: Mark[] = [100, 200, 300].map((at) => ({ at, values: [at] }));
  it('starts from the nearer end of the list when nothing is remembered', () => {
    expect(nearestStart([], 1000, 10, 5)).toEqual({ start: { at: 0, values: null, reverse: false }, skip: 10 });
    expect(nearestStart([], 1000, 990, 5)).toEqual({ start: { at: 999, values: null, reverse: true }, skip: 5 });
  });
  it('starts from the remembered row before the page, or after its last row, whichever skips fewer', () => {
    expect(nearestStart(marks, 1000, 210, 10)).toEqual({ start: { at: 200, values: [200], reverse: false }, skip: 10 });
    expect(nearestStart(marks, 1000, 200, 10)).toEqual({ start: { at: 200, values: [200], reverse: false }, skip: 0 });
    // Rows 285 to 294: row 300 is 6 after the last, row 200 is 85 before the first.
    expect(nearestStart(marks, 1000, 285, 10)).toEqual({ start: { at: 300, values: [300], reverse: true }, skip: 6 });
    // Rows 291 to 300: the page ends on row 300.
    expect(nearestStart(marks, 1000, 291, 10)).toEqual({ start: { at: 300, values: [300], reverse: true }, skip: 0 });
    // Past every mark and near the end: the end.
    expect(nearestStart(marks, 1000, 900, 10)).toEqual({ start: { at: 999, values: null, reverse: true }, skip: 90 });
  });
});

describe('Positions', () => {
  const g: Generation = { total: 1000, generation: 7 };
  it('keeps a list while its generation and total are the same, and forgets it when either changes', () => {
    const p = new Positions({ stride: 10 });
    expect(p.marks('a', g)).toEqual([]);
    p.remember('a', g, { at: 20, values: [20] });
    p.remember('a', g, { at: 10, values: [10] });
    p.remember('a', g, { at: 20, values: [99] }); // already known
    expect(p.marks('a', g)).toEqual([{ at: 10, values: [10] }, { at: 20, values: [20] }]);
    expect(p.marks('a', { ...g, generation: 8 })).toEqual([]);
    // A walk begun at generation 7 lands after the list moved on: not remembered.
    p.remember('a', g, { at: 30, values: [30] });
    expect(p.marks('a', { ...g, generation: 8 })).toEqual([]);
    p.remember('a', { ...g, generation: 8 }, { at: 30, values: [30] });
    expect(p.marks('a', { total: 999, generation: 8 })).toEqual([]);
  });
  it('forgets a list after its time, and the least recently read list past the limit', () => {
    const p = new Positions({ ttlMs: 1000, maxLists: 2 });
    p.marks('a', g, 0);
    p.remember('a', g, { at: 5, values: [5] });
    expect(p.marks('a', g, 999)).toHaveLength(1);
    expect(p.marks('a', g, 1000)).toHaveLength(0);
    p.remember('a', g, { at: 5, values: [5] });
    p.marks('b', g, 1000);
    p.remember('b', g, { at: 5, values: [5] });
    p.marks('a', g, 1001); // a read more recently than b
    p.marks('c', g, 1002);
    expect(p.marks('a', g, 1003)).toHaveLength(1);
    expect(p.marks('b', g, 1003)).toHaveLength(0);
  });
});

describe('rebased', () => {
  const was: Generation = { total: 100, generation: 1, born: 1, joins: 100, leaves: 0, moves: 0 };
  const earlier = { g: was, marks: [10, 50, 89].map((at) => ({ at, values: [at] })), until: Infinity };
  const noCount = async (): Promise<number> => {
    throw new Error('counted');
  };
  it('shifts by the new rows when they all came before the first remembered row', async () => {
    const now = { ...was, total: 103, generation: 2, joins: 103 };
    expect(await rebased(earlier, now, async (_m, side) => (side === 'before' ? 13 : 10), 20)).toBe(3);
    expect(await rebased(earlier, now, async (_m, side) => (side === 'before' ? 12 : 11), 20)).toBe(null);
  });
  it('counts nothing when the tallies already say no, or when the counts would cost a walk', async () => {
    expect(await rebased(earlier, { ...was, generation: 2, moves: 1 }, noCount, 20)).toBe(null);
    expect(await rebased(earlier, { ...was, generation: 2, born: 2 }, noCount, 20)).toBe(null);
    expect(await rebased(earlier, { ...was, total: 150, generation: 2, joins: 150 }, noCount, 20)).toBe(null);
    expect(await rebased(earlier, { ...was, total: 101, generation: 2, joins: 102 }, noCount, 20)).toBe(null);
  });
});

describe('deepStart', () => {
  // A list of 100 rows in memory: the row at position i has the sort value i.
  const reads = (generations: Generation[]) => ({
    generation: async () => generations.shift()!,
    valuesAt: async (start: { at: number; reverse: boolean }, skip: number) => [start.at + (start.reverse ? -skip : skip)],
    countBeside: async () => 0,
  });
  const g: Generation = { total: 100, generation: 1 };
  it('walks a stride at a time and remembers where it landed, and a row near each end', async () => {
    const p = new Positions({ stride: 10 });
    expect(await deepStart(p, 'l', g, 45, 10, reads([g]))).toEqual({ start: { at: 40, values: [40], reverse: false }, skip: 5 });
    expect(p.marks('l', g).map((m) => m.at)).toEqual([10, 20, 30, 40, 89]);
    expect(await deepStart(p, 'l', g, 75, 10, reads([g]))).toEqual({ start: { at: 89, values: [89], reverse: true }, skip: 5 });
  });
  it('remembers nothing when the list changed while it walked', async () => {
    const p = new Positions({ stride: 10 });
    await deepStart(p, 'l', g, 45, 10, reads([{ ...g, generation: 2 }]));
    expect(p.marks('l', g)).toEqual([]);
  });
});

describeEachDb('remembered positions', (kind) => {
  let w: ServiceWorld;
  let keys: Record<'ci' | 'cd', ApiKey>;
  let positions: Positions;
  const STRIDE = 16;
  beforeEach(async () => {
    w = await openServiceWorld(kind, { limits: { tokensPerApiKey: 1000 } });
    const sa = await addServiceAccount(w, 'deployer');
    const owner = saOwner(sa);
    keys = {
      ci: await w.services.apiKeys.create(w.admin, owner, { identifier: 'ci', name: 'ci', defaultTimeToExpireToken: 2 * DAY }),
      cd: await w.services.apiKeys.create(w.admin, owner, { identifier: 'cd', name: 'cd', defaultTimeToExpireToken: 2 * DAY }),
    };
    positions = configurePositions(w.ts.store.db, { stride: STRIDE });
    // 300 tokens of ci and 200 of cd, written straight to the store (counted by the same triggers);
    // many share a creation or update time, so later fields and the id decide their order.
    const base = w.clock.now();
    await w.ts.store.transaction(async (tx) => {
      for (let i = 0; i < 500; i++) await insertToken(tx, token(i < 300 ? 'ci' : 'cd', i, base), `${'0'.repeat(58)}${String(i).padStart(6, '0')}`);
    });
  });
  afterEach(async () => w.close());

  function token(key: 'ci' | 'cd', i: number, base: number): Token {
    return {
      id: `${String((i * 7919) % 1000).padStart(3, '0')}${String(i).padStart(6, '0')}${'e'.repeat(15)}`,
      apiKeyId: keys[key].id, scope: w.accountScope, identifier: `b${String(i).padStart(4, '0')}`, name: `b${String((i * 31) % 97).padStart(2, '0')}`,
      description: '', tags: {}, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'deployer', apiKeyIdentifier: key, format: 'harness_ng',
      validFrom: base, validTo: base + DAY, scheduledExpireTime: null, rotatedAt: null, lastUsedAt: null, lastUsedIp: null, lastUsedUserAgent: null,
      createdAt: base + (i % 7), updatedAt: base + ((i * 13) % 40),
    };
  }

  const levels: Array<Omit<TokenFilter, 'scope' | 'apiKeyType'>> = [{}, { parentIdentifier: 'deployer' }, { parentIdentifier: 'deployer', apiKeyIdentifier: 'ci' }];
  const sorts: Array<SortOrder[] | undefined> = [
    undefined,
    [{ field: 'createdAt', desc: true }],
    [{ field: 'updatedAt', desc: false }],
    [{ field: 'name', desc: false }, { field: 'createdAt', desc: true }],
    [{ field: 'identifier', desc: true }],
  ];
  const filterOf = (level: Omit<TokenFilter, 'scope' | 'apiKeyType'>): TokenFilter => ({ scope: w.accountScope, apiKeyType: 'SERVICE_ACCOUNT', ...level });

  /** Reads pages at these offsets and checks each against a forward read of the whole list. */
  async function expectPages(level: Omit<TokenFilter, 'scope' | 'apiKeyType'>, sort: SortOrder[] | undefined, offsets: number[], limit = 10): Promise<void> {
    const db = w.ts.store.db;
    // The reference: a literal search for the shared prefix narrows nothing, but takes the counted path out.
    const all = (await listTokens(db, filterOf(level), { offset: 0, limit: 1000, sort, search: 'b' })).items.map((t) => t.identifier);
    for (const offset of offsets) {
      const page = await listTokens(db, filterOf(level), { offset, limit, sort });
      expect({ level, sort, offset, total: page.total, page: page.items.map((t) => t.identifier) }).toEqual({ level, sort, offset, total: all.length, page: all.slice(offset, offset + limit) });
    }
  }

  it('reads every deep page as a forward read does, walking once per list and then from what it remembers', async () => {
    const offsets = [250, 17, 480, 251, 100, 33, 299, 150, 490, 64];
    for (const level of levels) {
      for (const sort of sorts) {
        const before = positions.steps;
        await expectPages(level, sort, offsets, 7);
        const walked = positions.steps - before;
        expect(walked).toBeGreaterThan(0);
        // The list is known now: the same pages, and pages between them, walk no more.
        await expectPages(level, sort, [...offsets, ...offsets.map((o) => o + 3)], 10);
        expect(positions.steps - before).toBe(walked);
      }
    }
  });

  const generation = (apiKeyIdentifier = '') =>
    tokenListGeneration(w.ts.store.db, { scope: w.accountScope, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: apiKeyIdentifier ? 'deployer' : '', apiKeyIdentifier });
  const idsIn = async (sort?: SortOrder[], level = levels[0]!) => (await listTokens(w.ts.store.db, filterOf(level), { offset: 0, limit: 1000, sort })).items.map((t) => t.id);
  const deep = [400, 130, 260, 470, 35, 200];

  it('starts afresh after a token joins, leaves or moves between its remembered rows, and not after a last use', async () => {
    const db = w.ts.store.db;
    const warm = () => expectPages(levels[0]!, undefined, deep);
    await warm();
    const ids = await idsIn();

    // A last use touches no sort column: same generation, nothing walked again.
    let g = await generation();
    let steps = positions.steps;
    await recordTokenUsage(db, [{ tokenId: ids[10]!, at: w.clock.now(), ip: '10.0.0.1', userAgent: 'test' }]);
    expect(await generation()).toEqual(g);
    await warm();
    expect(positions.steps).toBe(steps);

    const base = w.clock.now();
    const changes: Array<[string, () => Promise<unknown>]> = [
      // Moves: a rename (updateToken also sets the update time, so it moves to the head), and a token
      // moving from the 200th place to about the 300th: the counts at the ends cannot see that one.
      ['rename', () => updateToken(db, ids[250]!, { name: 'a-first', updatedAt: base + 100 })],
      ['move within', async () => updateToken(db, ids[200]!, { updatedAt: (await getTokenById(db, ids[300]!))!.updatedAt })],
      // Joins with an update time in the middle of the list (one older than all would join after the last).
      ['join', () => insertToken(db, { ...token('ci', 600, base), updatedAt: base + 20 }, `${'1'.repeat(64)}`)],
      ['leave', () => deleteToken(db, ids[260]!)],
      ['key deleted', () => deleteApiKey(db, keys.cd.id)],
    ];
    for (const [what, change] of changes) {
      g = await generation();
      steps = positions.steps;
      await change();
      expect({ what, changed: (await generation()).generation !== g.generation }).toEqual({ what, changed: true });
      await warm(); // exact pages, from rows found afresh
      expect({ what, walkedAgain: positions.steps > steps }).toEqual({ what, walkedAgain: true });
    }
  });

  it('keeps its rows, shifted, when new tokens come before them and old ones leave after them', async () => {
    const db = w.ts.store.db;
    const newest: SortOrder[] | undefined = undefined; // updatedAt desc: new tokens first
    const oldest: SortOrder[] = [{ field: 'updatedAt', desc: false }]; // new tokens last
    const learning = positions.steps;
    for (const level of [levels[0]!, levels[2]!]) await Promise.all([expectPages(level, newest, deep), expectPages(level, oldest, deep)]);
    const learned = positions.steps - learning;
    const later = w.clock.now() + 100_000;
    let n = 700;
    const join = (count: number) => w.ts.store.transaction(async (tx) => {
      for (let i = 0; i < count; i++) await insertToken(tx, { ...token('ci', n, later), updatedAt: later + n, createdAt: later + n }, `${'2'.repeat(58)}${String(n++).padStart(6, '0')}`);
    });
    const leaveOldest = async (count: number) => {
      for (const id of (await idsIn(oldest, levels[2]!)).slice(0, count)) await deleteToken(db, id);
    };
    for (const [what, change] of [
      ['three new tokens', () => join(3)],
      ['the two oldest leave', () => leaveOldest(2)],
      ['one new, three oldest leave', async () => { await join(1); await leaveOldest(3); }],
    ] as const) {
      const steps = positions.steps;
      await change();
      for (const level of [levels[0]!, levels[2]!]) {
        await expectPages(level, newest, deep);
        await expectPages(level, oldest, deep);
      }
      // Kept, shifted: at most a stride's step where a page now falls just past a remembered row.
      expect({ what, walkedLittle: positions.steps - steps < learned / 4 }).toEqual({ what, walkedLittle: true });
    }
    // A new token at the head and one leaving between the remembered rows: the lists start afresh.
    const steps = positions.steps;
    await join(1);
    await deleteToken(db, (await idsIn(newest))[250]!);
    for (const level of [levels[0]!, levels[2]!]) await expectPages(level, newest, deep);
    expect(positions.steps - steps).toBeGreaterThan(learned / 8);
  });

  it('neither walks nor remembers inside a transaction (what it reads may never commit)', async () => {
    const steps = positions.steps;
    const all = await idsIn();
    const page = await w.ts.store.transaction((tx) => listTokens(tx, filterOf(levels[0]!), { offset: 250, limit: 10 }));
    expect(page.items.map((t) => t.id)).toEqual(all.slice(250, 260));
    expect(positions.steps).toBe(steps);
  });

  it('starts afresh when the list was emptied and filled again, though its tallies and ends match', async () => {
    const db = w.ts.store.db;
    const keyLevel = { parentIdentifier: 'deployer', apiKeyIdentifier: 'cd' };
    const offsets = [30, 100, 170];
    await expectPages(keyLevel, undefined, offsets);
    const rows = await db.selectFrom('tokens').selectAll().where('api_key_id', '=', keys.cd.id).execute();
    const order = await idsIn(undefined, keyLevel);
    const byId = new Map(rows.map((r) => [r.id, r]));
    await db.deleteFrom('tokens').where('api_key_id', '=', keys.cd.id).execute();
    // The same 200 rows again but the 50th, and one new row right after the 150th: as many joined as
    // before, the same rows at both ends, the rows between the two one place further up.
    const out = order[50]!;
    const next = { ...byId.get(order[150]!)!, id: `${order[150]!.slice(0, 23)}f`, identifier: 'b-new', secret_digest: '4'.repeat(64) };
    await w.ts.store.transaction(async (tx) => {
      for (const r of [...rows.filter((r) => r.id !== out), next]) await tx.insertInto('tokens').values(r).execute();
    });
    const g = await generation('cd');
    expect({ total: g.total, joins: g.joins, moves: g.moves }).toEqual({ total: 200, joins: 200, moves: 0 });
    const steps = positions.steps;
    await expectPages(keyLevel, undefined, offsets);
    expect(positions.steps).toBeGreaterThan(steps);
  });
});
