// The per-installation secret that keys password hashes (HMAC-SHA-256), so that one
// password shared by many identities is visible without the password being stored.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const SECRET_BYTES = 32;

/** Where state lives: $IOTWATCH_HOME, else ~/.iotwatch. */
export function iotwatchHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.IOTWATCH_HOME || join(homedir(), '.iotwatch');
}

/**
 * The installation secret: $IOTWATCH_SECRET (hex, at least 16 bytes), else the file given,
 * else $IOTWATCH_HOME/secret, created with 32 random bytes (mode 0600) on first use.
 */
export function loadSecret(file?: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.IOTWATCH_SECRET;
  if (fromEnv) {
    if (!/^([0-9a-fA-F]{2}){16,}$/.test(fromEnv)) {
      throw new Error('IOTWATCH_SECRET must be hex, at least 32 hex digits');
    }
    return Buffer.from(fromEnv, 'hex');
  }
  const path = file ?? join(iotwatchHome(env), 'secret');
  if (existsSync(path)) {
    const raw = readFileSync(path);
    const text = raw.toString('utf8').trim();
    const key = /^([0-9a-fA-F]{2}){16,}$/.test(text) ? Buffer.from(text, 'hex') : raw;
    if (key.length < 16) throw new Error(`${path}: secret is shorter than 16 bytes`);
    return key;
  }
  const key = randomBytes(SECRET_BYTES);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return key;
}
