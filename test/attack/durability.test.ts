/**
 * Crash durability (issue 12): a real Keyward process (dist/) under write load, killed with SIGKILL
 * three times per database and restarted on the same data. Every acknowledged write is there
 * afterwards, every acknowledged token still verifies, nothing is half-made (test/helpers/durability.ts).
 * `npm run bench:durability` runs 20 kills per database; its figures are in docs/security.md.
 */
import { describe, expect, it } from 'vitest';
import { pgUrl, type DbKind } from '../helpers/databases.js';
import { runDurability } from '../helpers/durability.js';

for (const kind of ['sqlite', 'postgres'] as DbKind[]) {
  const d = kind === 'postgres' && !pgUrl() ? describe.skip : describe;
  d(`attack: kill -9 under write load [${kind}]`, () => {
    it('loses no acknowledged write and leaves nothing half-made across 3 kills', { timeout: 120_000 }, async () => {
      const report = await runDurability({ db: kind === 'sqlite' ? { kind } : { kind, url: pgUrl()! }, kills: 3, workers: 3 });
      console.log(`[durability ${kind}] ${JSON.stringify({ ...report, restartMs: report.restartMs })}`);
      expect(report.kills).toBe(3);
      // The load really wrote, and the kills really cut requests off.
      expect(report.acknowledged.tokens).toBeGreaterThanOrEqual(3);
      expect(report.lost).toEqual([]);
      expect(report.halfMade).toEqual([]);
    });
  });
}
