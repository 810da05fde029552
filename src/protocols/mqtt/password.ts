// Credentials never leave the decoder: what leaves is presence, length and a keyed hash, so two
// sightings of one password can be matched without anyone learning it.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { PasswordInfo } from '../../events/types';

export const NO_PASSWORD: PasswordInfo = Object.freeze({ present: false, length: 0, hmac: '' });

export class SecretHasher {
  private readonly key: KeyObject;

  /** `secret` is the per-installation HMAC key; it is copied into a KeyObject. */
  constructor(secret: Buffer) {
    if (!Buffer.isBuffer(secret) || secret.length === 0) {
      throw new TypeError('MQTT decoder: options.secret must be a non-empty Buffer');
    }
    this.key = createSecretKey(Buffer.from(secret));
  }

  /** HMAC-SHA-256 (hex) of buf[start, end). The caller zeroes the clear bytes it owns. */
  info(buf: Buffer, start: number, end: number): PasswordInfo {
    const h = createHmac('sha256', this.key);
    h.update(buf.subarray(start, end));
    return { present: true, length: end - start, hmac: h.digest('hex') };
  }
}
