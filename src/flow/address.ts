// IP address bytes <-> canonical text. Called once per flow (never per packet), so the
// code favours matching tshark exactly over speed.

/** IPv4 dotted quad from 4 bytes at buf[off]. */
export function ipv4ToText(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/**
 * IPv6 text from 16 bytes at buf[off], RFC 5952 section 4: lower-case hex without leading
 * zeros, the longest run of two or more zero groups shortened to "::" (the first one on a
 * tie). Like tshark (which uses the BIND/glibc inet_ntop), IPv4-mapped (::ffff:a.b.c.d) and
 * IPv4-compatible (::a.b.c.d) addresses end in dotted decimal (RFC 5952 section 5).
 */
export function ipv6ToText(buf: Uint8Array, off: number): string {
  const words = new Array<number>(8);
  for (let i = 0; i < 8; i++) words[i] = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];

  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) { curBase = i; curLen = 1; } else curLen++;
      if (curLen > bestLen) { bestBase = curBase; bestLen = curLen; }
    } else {
      curBase = -1;
    }
  }
  // RFC 5952 4.2.2: a single zero group is not shortened.
  if (bestLen < 2) bestBase = -1;

  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i > 0) out += ':';
    // Same test as inet_ntop6: zeros up to word 5 (or word 4 and 0xffff in word 5).
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += ipv4ToText(buf, off + 12);
      return out;
    }
    out += words[i].toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Address text for 4 (IPv4) or 16 (IPv6) bytes. */
export function ipToText(buf: Uint8Array, off: number, len: 4 | 16): string {
  return len === 4 ? ipv4ToText(buf, off) : ipv6ToText(buf, off);
}

/**
 * Parses IPv4 dotted quad or IPv6 text (with "::" and an optional trailing dotted quad)
 * into 4 or 16 bytes; undefined if the text is not an address. For configuration and tests.
 */
export function parseIp(text: string): Buffer | undefined {
  if (!text.includes(':')) return parseIpv4(text);
  let head = text;
  let tail = '';
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    if (text.indexOf('::', dbl + 1) >= 0) return undefined;
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const headWords = head === '' ? [] : head.split(':');
  const tailWords = tail === '' ? [] : tail.split(':');
  const words: number[] = [];
  const all = dbl >= 0 ? [headWords, tailWords] : [headWords];
  const parsed: number[][] = [];
  for (const part of all) {
    const ws: number[] = [];
    for (let i = 0; i < part.length; i++) {
      const w = part[i];
      if (i === part.length - 1 && part === all[all.length - 1] && w.includes('.')) {
        const v4 = parseIpv4(w);
        if (!v4) return undefined;
        ws.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
      ws.push(parseInt(w, 16));
    }
    parsed.push(ws);
  }
  if (dbl >= 0) {
    const fill = 8 - parsed[0].length - parsed[1].length;
    if (fill < 1) return undefined;
    words.push(...parsed[0], ...new Array<number>(fill).fill(0), ...parsed[1]);
  } else {
    words.push(...parsed[0]);
  }
  if (words.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(words[i], 2 * i);
  return out;
}

function parseIpv4(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i])) return undefined;
    const v = Number(parts[i]);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}
