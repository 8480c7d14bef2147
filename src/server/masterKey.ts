/**
 * Where the master key comes from: KEYWARD_MASTER_KEY (checked when the config loads), else
 * `<dataDir>/master.key`, created once with mode 0600 the first time a sealed value is needed (the
 * session-signing secret is sealed at the first start, so in practice then). KEYWARD_MASTER_KEY_PREVIOUS
 * lists older keys that can still open values while they are re-sealed (docs/security.md, rotation).
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Keyring, parseMasterKey } from '../domain/masterKey.js';

export interface MasterKeySettings {
  masterKey: string | undefined;
  masterKeyPrevious: string[];
  dataDir: string;
}

/** Reads the key file, or creates it (exclusively, 0600) when it does not exist yet. */
export function readOrCreateKeyFile(file: string): Buffer {
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new Error(`${file} is readable by other users (mode ${mode.toString(8)}); run "chmod 600 ${file}"`);
    return parseMasterKey(readFileSync(file, 'utf8'), file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    // Another process created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return parseMasterKey(readFileSync(file, 'utf8'), file);
    throw e;
  }
  try {
    writeSync(fd, `${randomBytes(32).toString('base64')}\n`);
  } finally {
    closeSync(fd);
  }
  return parseMasterKey(readFileSync(file, 'utf8'), file);
}

/** A keyring resolved on first use, then kept. */
export function lazyKeyring(s: MasterKeySettings): () => Keyring {
  let ring: Keyring | null = null;
  return () => {
    if (ring) return ring;
    const current = s.masterKey ? parseMasterKey(s.masterKey) : readOrCreateKeyFile(path.join(s.dataDir, 'master.key'));
    ring = new Keyring(current, s.masterKeyPrevious.map((k) => parseMasterKey(k, 'KEYWARD_MASTER_KEY_PREVIOUS')));
    return ring;
  };
}
