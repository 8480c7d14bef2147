/**
 * Comments point to files in this repository (docs/architecture.md): every path a comment under src/
 * names (docs/..., src/..., test/..., bench/..., web/..., packages/..., scripts/...) exists, and none
 * points to a document outside it (a "spec section" or DESIGN.md).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(name) ? [p] : [];
  });
}

/** Repository paths a text names, not counting a longer path it is the tail of. */
function pathsNamed(text: string): string[] {
  return [...text.matchAll(/(?<![\w./-])((?:docs|src|test|bench|web|packages|scripts)\/[\w./-]*[\w-]\.(?:md|ts|tsx|json))/g)].map((m) => m[1]!);
}

describe('pointers in comments', () => {
  const files = sources(join(root, 'src'));

  it('finds the paths a comment names, and only whole ones', () => {
    expect(pathsNamed('see docs/compat/harness-ng.md, and (src/store/rows.ts). Not packages/sdk/src/cache.ts twice.')).toEqual([
      'docs/compat/harness-ng.md',
      'src/store/rows.ts',
      'packages/sdk/src/cache.ts',
    ]);
  });

  it('every file a comment under src/ names exists in the repository', () => {
    const named = files.flatMap((f) => pathsNamed(readFileSync(f, 'utf8')).map((p) => `${relative(root, f)}: ${p}`));
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((n) => !existsSync(join(root, n.split(': ')[1]!)))).toEqual([]);
  });

  it('no comment under src/ points to a document outside the repository', () => {
    const outside = files.filter((f) => /spec section|DESIGN\.md/i.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
    expect(outside).toEqual([]);
  });
});
