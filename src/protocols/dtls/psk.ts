// PSK cipher suites and their key exchange (RFC 4279, RFC 4785, RFC 5487, RFC 5489, RFC 6209,
// RFC 6367, RFC 6655, RFC 7905, RFC 8442), and the PSK fields of the key exchange messages.
import { Cursor, Truncated } from '../tls/cursor';
import type { PskKeyExchange } from '../../events/tls-types';

const table: Array<[PskKeyExchange, Record<number, string>]> = [
  ['psk', {
    0x002c: 'NULL_SHA', 0x008a: 'RC4_128_SHA', 0x008b: '3DES_EDE_CBC_SHA', 0x008c: 'AES_128_CBC_SHA',
    0x008d: 'AES_256_CBC_SHA', 0x00a8: 'AES_128_GCM_SHA256', 0x00a9: 'AES_256_GCM_SHA384',
    0x00ae: 'AES_128_CBC_SHA256', 0x00af: 'AES_256_CBC_SHA384', 0x00b0: 'NULL_SHA256', 0x00b1: 'NULL_SHA384',
    0xc064: 'ARIA_128_CBC_SHA256', 0xc065: 'ARIA_256_CBC_SHA384', 0xc06a: 'ARIA_128_GCM_SHA256',
    0xc06b: 'ARIA_256_GCM_SHA384', 0xc08e: 'CAMELLIA_128_GCM_SHA256', 0xc08f: 'CAMELLIA_256_GCM_SHA384',
    0xc094: 'CAMELLIA_128_CBC_SHA256', 0xc095: 'CAMELLIA_256_CBC_SHA384', 0xc0a4: 'AES_128_CCM',
    0xc0a5: 'AES_256_CCM', 0xc0a8: 'AES_128_CCM_8', 0xc0a9: 'AES_256_CCM_8', 0xccab: 'CHACHA20_POLY1305_SHA256',
  }],
  ['dhe_psk', {
    0x002d: 'NULL_SHA', 0x008e: 'RC4_128_SHA', 0x008f: '3DES_EDE_CBC_SHA', 0x0090: 'AES_128_CBC_SHA',
    0x0091: 'AES_256_CBC_SHA', 0x00aa: 'AES_128_GCM_SHA256', 0x00ab: 'AES_256_GCM_SHA384',
    0x00b2: 'AES_128_CBC_SHA256', 0x00b3: 'AES_256_CBC_SHA384', 0x00b4: 'NULL_SHA256', 0x00b5: 'NULL_SHA384',
    0xc066: 'ARIA_128_CBC_SHA256', 0xc067: 'ARIA_256_CBC_SHA384', 0xc06c: 'ARIA_128_GCM_SHA256',
    0xc06d: 'ARIA_256_GCM_SHA384', 0xc090: 'CAMELLIA_128_GCM_SHA256', 0xc091: 'CAMELLIA_256_GCM_SHA384',
    0xc096: 'CAMELLIA_128_CBC_SHA256', 0xc097: 'CAMELLIA_256_CBC_SHA384', 0xc0a6: 'AES_128_CCM',
    0xc0a7: 'AES_256_CCM', 0xc0aa: 'AES_128_CCM_8', 0xc0ab: 'AES_256_CCM_8', 0xccad: 'CHACHA20_POLY1305_SHA256',
  }],
  ['rsa_psk', {
    0x002e: 'NULL_SHA', 0x0092: 'RC4_128_SHA', 0x0093: '3DES_EDE_CBC_SHA', 0x0094: 'AES_128_CBC_SHA',
    0x0095: 'AES_256_CBC_SHA', 0x00ac: 'AES_128_GCM_SHA256', 0x00ad: 'AES_256_GCM_SHA384',
    0x00b6: 'AES_128_CBC_SHA256', 0x00b7: 'AES_256_CBC_SHA384', 0x00b8: 'NULL_SHA256', 0x00b9: 'NULL_SHA384',
    0xc068: 'ARIA_128_CBC_SHA256', 0xc069: 'ARIA_256_CBC_SHA384', 0xc06e: 'ARIA_128_GCM_SHA256',
    0xc06f: 'ARIA_256_GCM_SHA384', 0xc092: 'CAMELLIA_128_GCM_SHA256', 0xc093: 'CAMELLIA_256_GCM_SHA384',
    0xc098: 'CAMELLIA_128_CBC_SHA256', 0xc099: 'CAMELLIA_256_CBC_SHA384', 0xccae: 'CHACHA20_POLY1305_SHA256',
  }],
  ['ecdhe_psk', {
    0xc033: 'RC4_128_SHA', 0xc034: '3DES_EDE_CBC_SHA', 0xc035: 'AES_128_CBC_SHA', 0xc036: 'AES_256_CBC_SHA',
    0xc037: 'AES_128_CBC_SHA256', 0xc038: 'AES_256_CBC_SHA384', 0xc039: 'NULL_SHA', 0xc03a: 'NULL_SHA256',
    0xc03b: 'NULL_SHA384', 0xc070: 'ARIA_128_CBC_SHA256', 0xc071: 'ARIA_256_CBC_SHA384',
    0xc09a: 'CAMELLIA_128_CBC_SHA256', 0xc09b: 'CAMELLIA_256_CBC_SHA384', 0xccac: 'CHACHA20_POLY1305_SHA256',
    0xd001: 'AES_128_GCM_SHA256', 0xd002: 'AES_256_GCM_SHA384', 0xd003: 'AES_128_CCM_8_SHA256',
    0xd005: 'AES_128_CCM_SHA256',
  }],
];

const KX = new Map<number, PskKeyExchange>();
const NAMES = new Map<number, string>();
for (const [kx, suites] of table) {
  const prefix = kx === 'psk' ? 'TLS_PSK_WITH_' : `TLS_${kx.toUpperCase()}_WITH_`;
  for (const [code, rest] of Object.entries(suites)) {
    KX.set(Number(code), kx);
    NAMES.set(Number(code), prefix + rest);
  }
}
// A few certificate-based suites common on constrained devices (RFC 7251, RFC 6655, RFC 8446).
const OTHER: Record<number, string> = {
  0xc0ae: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', 0xc0ac: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM',
  0xc02b: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 0xc02f: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  0xc02c: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 0xc030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  0xcca9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 0xcca8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xc0a0: 'TLS_RSA_WITH_AES_128_CCM_8', 0x002f: 'TLS_RSA_WITH_AES_128_CBC_SHA', 0x0035: 'TLS_RSA_WITH_AES_256_CBC_SHA',
  0x1301: 'TLS_AES_128_GCM_SHA256', 0x1302: 'TLS_AES_256_GCM_SHA384', 0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0x1304: 'TLS_AES_128_CCM_SHA256', 0x1305: 'TLS_AES_128_CCM_8_SHA256',
};
for (const [code, name] of Object.entries(OTHER)) NAMES.set(Number(code), name);

/** Key exchange family of a PSK suite, or null for other suites. */
export function pskKeyExchange(suite: number): PskKeyExchange | null {
  return KX.get(suite) ?? null;
}

export function cipherSuiteName(suite: number): string | null {
  return NAMES.get(suite) ?? null;
}

/**
 * The psk_identity of a ClientKeyExchange body (RFC 4279 sections 2-4, RFC 5489 section 2):
 * always first, as opaque psk_identity<0..2^16-1>; what follows must match the key exchange
 * (nothing for PSK, dh_Yc<1..2^16-1> for DHE_PSK, EncryptedPreMasterSecret<0..2^16-1> for
 * RSA_PSK, ecdh_Yc<1..2^8-1> for ECDHE_PSK).
 */
export function parsePskClientKeyExchange(buf: Buffer, off: number, len: number, kx: PskKeyExchange): Buffer | string {
  try {
    const c = new Cursor(buf, off, off + len);
    const identity = c.vec(2, 'psk_identity').rest();
    switch (kx) {
      case 'psk':
        break;
      case 'ecdhe_psk': {
        const point = c.vec(1, 'ecdh_Yc');
        if (point.left === 0) return 'empty ecdh_Yc';
        break;
      }
      case 'dhe_psk':
      case 'rsa_psk':
        c.vec(2, kx === 'dhe_psk' ? 'dh_Yc' : 'EncryptedPreMasterSecret');
        break;
    }
    if (c.left !== 0) return `${c.left} bytes after the ${kx} ClientKeyExchange`;
    return identity;
  } catch (e) {
    if (e instanceof Truncated) return `ClientKeyExchange: ${e.message} runs past the message`;
    throw e;
  }
}

/** psk_identity_hint<0..2^16-1>, first in every PSK ServerKeyExchange (RFC 4279, RFC 5489). */
export function parsePskServerKeyExchange(buf: Buffer, off: number, len: number): Buffer | string {
  try {
    return new Cursor(buf, off, off + len).vec(2, 'psk_identity_hint').rest();
  } catch (e) {
    if (e instanceof Truncated) return `ServerKeyExchange: ${e.message} runs past the message`;
    throw e;
  }
}
