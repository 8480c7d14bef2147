/**
 * Where the real clients' sources live: `../shared/clients` beside the clone (CI). A git worktree
 * lives elsewhere: there it is beside the main checkout, found through git's common directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function sharedClients(): string {
  const beside = path.resolve(repoRoot, '../shared/clients');
  if (existsSync(beside)) return beside;
  const common = spawnSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: repoRoot, encoding: 'utf8' });
  if (common.status === 0) {
    const main = path.resolve(path.dirname(common.stdout.trim()), '../shared/clients');
    if (existsSync(main)) return main;
  }
  return beside;
}
