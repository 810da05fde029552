// JA4 client fingerprint (FoxIO JA4 technical details, v0.18): a_b_c where
//   a = protocol (t TCP, d DTLS, q QUIC) + version + d/i (SNI present) + cipher count +
//       extension count + first/last character of the first ALPN value,
//   b = sha256 of the sorted cipher list, 12 hex,
//   c = sha256 of the sorted extension list (SNI and ALPN removed) + '_' + signature algorithms
//       in wire order, 12 hex.
// GREASE (RFC 8701) is ignored everywhere.
import { createHash } from 'node:crypto';

function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

const JA4_VERSION: Record<number, string> = {
  0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3', 0x0002: 's2', 0x0200: 's2',
  0x0100: 's1', 0xfeff: 'd1', 0xfefd: 'd2', 0xfefc: 'd3',
};

const hex4 = (v: number): string => v.toString(16).padStart(4, '0');
const hash12 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);
const count2 = (n: number): string => String(Math.min(n, 99)).padStart(2, '0');

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** First and last character of the first ALPN value; hex digits when either is not alphanumeric. */
function alpnChars(alpn: string | null): string {
  if (alpn === null || alpn.length === 0) return '00';
  const first = alpn.charCodeAt(0);
  const last = alpn.charCodeAt(alpn.length - 1);
  if (isAlnum(first) && isAlnum(last)) return alpn[0] + alpn[alpn.length - 1];
  const h = Buffer.from(alpn, 'latin1').toString('hex');
  return h[0] + h[h.length - 1];
}

export interface Ja4 {
  ja4: string;
  /** JA4_r: the same with the sorted lists in clear instead of their hashes. */
  ja4r: string;
}

export function computeJa4(
  protocol: 't' | 'd' | 'q',
  version: number,
  ciphers: readonly number[],
  extensions: readonly number[],
  sniPresent: boolean,
  firstAlpn: string | null,
  sigAlgs: readonly number[],
): Ja4 {
  const cs = ciphers.filter((c) => !isGrease(c)).map(hex4).sort();
  const exts = extensions.filter((e) => !isGrease(e));
  const extList = exts.filter((e) => e !== 0x0000 && e !== 0x0010).map(hex4).sort();
  const sigs = sigAlgs.filter((s) => !isGrease(s)).map(hex4);
  const a = `${protocol}${JA4_VERSION[version] ?? '00'}${sniPresent ? 'd' : 'i'}${count2(cs.length)}${count2(exts.length)}${alpnChars(firstAlpn)}`;
  const cStr = cs.join(',');
  const eStr = sigs.length > 0 ? `${extList.join(',')}_${sigs.join(',')}` : extList.join(',');
  const b = cs.length > 0 ? hash12(cStr) : '000000000000';
  const c = extList.length > 0 || sigs.length > 0 ? hash12(eStr) : '000000000000';
  return { ja4: `${a}_${b}_${c}`, ja4r: `${a}_${cStr}_${eStr}` };
}
