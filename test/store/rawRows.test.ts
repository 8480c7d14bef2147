/**
 * The hot reads' rows (src/store/rawRows.ts): built from raw rows, they must be exactly the objects
 * better-sqlite3 would give, and follow the statement's columns when the schema changes under it.
 */
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { objectRows, rowBuilder } from '../../src/store/rawRows.js';

describe('raw rows as objects', () => {
  it('gives the same objects as better-sqlite3, key order, nulls, numbers and a repeated name included', () => {
    const db = new BetterSqlite3(':memory:');
    db.exec(`create table t (id text primary key, "odd ""name""" text, n integer, big integer, x real, gone text);
             insert into t values ('a', 'q"uote', 1, 1796179154550, 0.5, null), ('b', '', -2, 0, 1e300, 'here');`);
    const sql = `select t.*, t.n as "n2", t.id as "id", 'lit' as "constructor" from t order by id`;
    const expected = db.prepare(sql).all();
    const rows = objectRows<Record<string, unknown>>(db.prepare(sql))([]);
    expect(rows).toEqual(expected);
    expect(rows.map((r) => Object.keys(r))).toEqual(expected.map((r) => Object.keys(r as object)));
    expect(JSON.stringify(rows)).toBe(JSON.stringify(expected));
    db.close();
  });

  it('follows a statement reading * when a column is added or dropped under it', () => {
    const db = new BetterSqlite3(':memory:');
    db.exec(`create table t (id text primary key, a text); insert into t values ('1', 'x');`);
    const read = objectRows<Record<string, unknown>>(db.prepare('select * from t where id = ?'));
    expect(read(['1'])).toEqual([{ id: '1', a: 'x' }]);
    db.exec(`alter table t add column b integer not null default 7`);
    expect(read(['1'])).toEqual([{ id: '1', a: 'x', b: 7 }]);
    db.exec(`alter table t drop column a`);
    expect(read(['1'])).toEqual([{ id: '1', b: 7 }]);
    expect(read(['2'])).toEqual([]);
    db.close();
  });

  it('writes the names as string literals, whatever characters they hold', () => {
    const names = ['a', 'b"); throw new Error("no', '\\', '\u2028', '__proto__x'];
    const build = rowBuilder<Record<string, unknown>>(names);
    expect(build([1, 2, 3, 4, 5])).toEqual({ a: 1, 'b"); throw new Error("no': 2, '\\': 3, '\u2028': 4, __proto__x: 5 });
  });
});
