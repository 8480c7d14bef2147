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
import { Positions, configurePositions, nearestStart, type Generation, type Mark } from '../../src/store/seek.js';
import { deleteToken, insertToken, listTokens, recordTokenUsage, tokenListGeneration, updateToken, type TokenFilter } from '../../src/store/tokens.js';
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

  it('starts afresh after a token joins, leaves or moves in the list, and not after a last use', async () => {
    const db = w.ts.store.db;
    const scopeLevel = levels[0]!;
    const byName: SortOrder[] = [{ field: 'name', desc: false }, { field: 'createdAt', desc: true }];
    const deep = [400, 130, 260, 470, 35, 200];
    const warm = async () => {
      for (const sort of [undefined, byName]) await expectPages(scopeLevel, sort, deep);
    };
    const generation = () => tokenListGeneration(db, { scope: w.accountScope, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: '', apiKeyIdentifier: '' });
    await warm();
    const ids = (await listTokens(db, filterOf(scopeLevel), { offset: 0, limit: 1000, sort: byName })).items.map((t) => t.id);

    // A last use touches no sort column: same generation, nothing walked again.
    let g = await generation();
    let steps = positions.steps;
    await recordTokenUsage(db, [{ tokenId: ids[10]!, at: w.clock.now(), ip: '10.0.0.1', userAgent: 'test' }]);
    expect(await generation()).toEqual(g);
    await warm();
    expect(positions.steps).toBe(steps);

    const changes: Array<[string, () => Promise<unknown>]> = [
      // Moves: the last row by name becomes the first, so every remembered row's position shifts by one.
      ['rename', () => updateToken(db, ids.at(-1)!, { name: 'a-first', updatedAt: w.clock.now() })],
      ['touch', () => updateToken(db, ids[250]!, { updatedAt: w.clock.now() + 5000 })],
      ['join', () => insertToken(db, token('ci', 600, w.clock.now() - 100_000), `${'1'.repeat(64)}`)],
      ['leave', () => deleteToken(db, ids[5]!)],
      ['key deleted', () => deleteApiKey(db, keys.cd.id)],
    ];
    for (const [what, change] of changes) {
      g = await generation();
      steps = positions.steps;
      await change();
      const now = await generation();
      expect({ what, changed: now.generation !== g.generation }).toEqual({ what, changed: true });
      await warm(); // exact pages, from rows found afresh
      expect({ what, walkedAgain: positions.steps > steps }).toEqual({ what, walkedAgain: true });
    }
  });
});
