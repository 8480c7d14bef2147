/**
 * The import rule of docs/architecture.md, checked over every file in src/: the layers point inward,
 * protocol adapters reach data only through services, and no import cycle exists anywhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of `file` (type-only ones too), as paths relative to src/. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(src, resolve(dirname(file), s)).replace(/\.js$/, '.ts').split('\\').join('/'));
}

export interface Graph {
  [file: string]: string[];
}

export function graphOf(files: string[]): Graph {
  const g: Graph = {};
  for (const f of files) g[relative(src, f).split('\\').join('/')] = importsOf(f);
  return g;
}

/** A protocol file's protocol (`harness-ng`, ...), or null; `protocols/auth` and `protocols/contract` are shared plumbing, not protocols. */
function protocolOf(path: string): string | null {
  const m = /^protocols\/([^/]+)\//.exec(path);
  return m && m[1] !== 'auth' && m[1] !== 'contract' ? m[1]! : null;
}

/** The import rule: a message per forbidden import. */
export function ruleViolations(g: Graph): string[] {
  const out: string[] = [];
  for (const [from, targets] of Object.entries(g)) {
    const layer = from.split('/')[0];
    for (const to of targets) {
      const toLayer = to.split('/')[0];
      const bad = (why: string) => out.push(`${from} imports ${to}: ${why}`);
      if (to.startsWith('..')) bad('outside src/');
      else if (layer === 'domain' && toLayer !== 'domain') bad('domain imports nothing outside domain');
      else if (layer === 'store' && ['services', 'protocols', 'server', 'cli'].includes(toLayer!)) bad('the store imports only domain and store');
      else if (layer === 'services' && ['protocols', 'server', 'cli'].includes(toLayer!)) bad('services import only domain, store and services');
      else if (layer === 'protocols' && ['store', 'server', 'cli'].includes(toLayer!)) bad('a protocol adapter imports neither store/ nor server/; it reaches data through services');
      else if (layer === 'protocols' && toLayer === 'protocols') {
        const a = protocolOf(from);
        const b = protocolOf(to);
        if (b !== null && a !== b) bad('a protocol does not import another protocol');
      }
    }
  }
  return out;
}

/** Every import cycle (strongly connected component of more than one file, or a file importing itself). */
export function cycles(g: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  // Iterative Tarjan.
  for (const start of Object.keys(g)) {
    if (idx.has(start)) continue;
    const work: Array<[string, number]> = [[start, 0]];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [v, i] = frame;
      if (i === 0) {
        idx.set(v, index);
        low.set(v, index);
        index++;
        stack.push(v);
        on.add(v);
      }
      const next = (g[v] ?? []).filter((w) => w in g);
      if (i < next.length) {
        frame[1] = i + 1;
        const w = next[i]!;
        if (!idx.has(w)) work.push([w, 0]);
        else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]![0];
        low.set(parent, Math.min(low.get(parent)!, low.get(v)!));
      }
      if (low.get(v) === idx.get(v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          on.delete(w);
          scc.push(w);
        } while (w !== v);
        if (scc.length > 1 || (g[v] ?? []).includes(v)) out.push(scc.sort());
      }
    }
  }
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

describe('the import rule (docs/architecture.md)', () => {
  const graph = graphOf(walk(src));

  it('reads the whole tree', () => {
    expect(Object.keys(graph).length).toBeGreaterThan(80);
    expect(graph['server/app.ts']).toContain('services/index.ts');
  });

  it('has no forbidden import in src/', () => {
    expect(ruleViolations(graph)).toEqual([]);
  });

  it('has no import cycle in src/', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('catches each kind of forbidden import and a cycle', () => {
    const g: Graph = {
      'domain/a.ts': ['store/x.ts'],
      'store/x.ts': ['services/s.ts'],
      'protocols/zenml/z.ts': ['store/x.ts', 'server/auth.ts', 'protocols/native/n.ts', 'protocols/auth/index.ts', 'services/s.ts'],
      'protocols/native/n.ts': ['protocols/native/m.ts'],
      'protocols/native/m.ts': ['protocols/native/n.ts'],
      'services/s.ts': ['domain/a.ts'],
    };
    expect(ruleViolations(g)).toEqual([
      'domain/a.ts imports store/x.ts: domain imports nothing outside domain',
      'store/x.ts imports services/s.ts: the store imports only domain and store',
      'protocols/zenml/z.ts imports store/x.ts: a protocol adapter imports neither store/ nor server/; it reaches data through services',
      'protocols/zenml/z.ts imports server/auth.ts: a protocol adapter imports neither store/ nor server/; it reaches data through services',
      'protocols/zenml/z.ts imports protocols/native/n.ts: a protocol does not import another protocol',
    ]);
    expect(cycles(g)).toEqual([['domain/a.ts', 'services/s.ts', 'store/x.ts'], ['protocols/native/m.ts', 'protocols/native/n.ts']]);
  });

  it('reads type-only and re-export imports', () => {
    const file = join(src, 'protocols/x/y.ts');
    expect(importsOf(file, "import type { A } from '../../store/a.js';\nexport { b } from './b.js';\nconst c = await import('../c.js');")).toEqual([
      'store/a.ts',
      'protocols/x/b.ts',
      'protocols/c.ts',
    ]);
  });
});
