// Builders for link/IP/transport headers, used to make packets for decoder and reader tests.

function ip4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}

function ip6Bytes(a: string): number[] {
  // Minimal parser for test addresses: full form or with one '::'.
  const [head, tail] = a.includes('::') ? a.split('::') : [a, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

export function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length & 1) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface TcpOpts {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  /** TCP options (padded to 4 bytes). */
  options?: Buffer;
  payload?: Buffer;
}

export function tcp(o: TcpOpts): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const optLen = Math.ceil(opt.length / 4) * 4;
  const h = Buffer.alloc(20 + optLen);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE((o.seq ?? 0) >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = ((20 + optLen) / 4) << 4;
  h[13] = o.flags ?? 0x18;
  h.writeUInt16BE(o.window ?? 65535, 14);
  opt.copy(h, 20);
  return Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
}

export function udp(o: { sport: number; dport: number; payload?: Buffer; length?: number }): Buffer {
  const p = o.payload ?? Buffer.alloc(0);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt16BE(o.length ?? 8 + p.length, 4);
  return Buffer.concat([h, p]);
}

export interface Ipv4Opts {
  src?: string;
  dst?: string;
  proto: number;
  payload: Buffer;
  id?: number;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  moreFragments?: boolean;
  dontFragment?: boolean;
  /** Header options (padded to 4 bytes). */
  options?: Buffer;
  totalLength?: number;
  ihl?: number;
  version?: number;
  ttl?: number;
}

export function ipv4(o: Ipv4Opts): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const hl = 20 + Math.ceil(opt.length / 4) * 4;
  const h = Buffer.alloc(hl);
  h[0] = ((o.version ?? 4) << 4) | (o.ihl ?? hl / 4);
  h.writeUInt16BE(o.totalLength ?? hl + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 0x1234, 4);
  const ff = ((o.fragOffset ?? 0) / 8) | (o.moreFragments ? 0x2000 : 0) | (o.dontFragment ? 0x4000 : 0);
  h.writeUInt16BE(ff, 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  Buffer.from(ip4Bytes(o.src ?? '10.0.0.1')).copy(h, 12);
  Buffer.from(ip4Bytes(o.dst ?? '10.0.0.2')).copy(h, 16);
  opt.copy(h, 20);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, o.payload]);
}

/** An IPv6 extension header in the generic (len + 1) * 8 layout (or AH, or fragment). */
export interface Ipv6Ext {
  type: number;
  /** Body bytes after next-header/length (padded). For type 44 use frag. */
  body?: Buffer;
  frag?: { offset: number; more: boolean; id: number };
}

export interface Ipv6Opts {
  src?: string;
  dst?: string;
  /** Next header of the last extension (the transport). */
  proto: number;
  payload: Buffer;
  ext?: Ipv6Ext[];
  payloadLength?: number;
}

export function ipv6ExtBytes(ext: Ipv6Ext[], proto: number): { first: number; bytes: Buffer } {
  const parts: Buffer[] = [];
  for (let i = 0; i < ext.length; i++) {
    const e = ext[i];
    const nh = i + 1 < ext.length ? ext[i + 1].type : proto;
    if (e.type === 44) {
      const f = e.frag ?? { offset: 0, more: false, id: 1 };
      const b = Buffer.alloc(8);
      b[0] = nh;
      b.writeUInt16BE(f.offset | (f.more ? 1 : 0), 2);
      b.writeUInt32BE(f.id, 4);
      parts.push(b);
    } else if (e.type === 51) {
      // AH: payload length in 4-byte words minus 2; 12 bytes fixed + ICV
      const icv = e.body ?? Buffer.alloc(12);
      const total = 12 + icv.length;
      const b = Buffer.alloc(total);
      b[0] = nh;
      b[1] = total / 4 - 2;
      icv.copy(b, 12);
      parts.push(b);
    } else {
      const body = e.body ?? Buffer.alloc(6);
      const total = Math.ceil((body.length + 2) / 8) * 8;
      const b = Buffer.alloc(total);
      b[0] = nh;
      b[1] = total / 8 - 1;
      body.copy(b, 2);
      parts.push(b);
    }
  }
  return { first: ext.length ? ext[0].type : proto, bytes: Buffer.concat(parts) };
}

export function ipv6(o: Ipv6Opts): Buffer {
  const { first, bytes } = ipv6ExtBytes(o.ext ?? [], o.proto);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(o.payloadLength ?? bytes.length + o.payload.length, 4);
  h[6] = first;
  h[7] = 64;
  Buffer.from(ip6Bytes(o.src ?? '2001:db8::1')).copy(h, 8);
  Buffer.from(ip6Bytes(o.dst ?? '2001:db8::2')).copy(h, 24);
  return Buffer.concat([h, bytes, o.payload]);
}

export function ether(etherType: number, payload: Buffer, vlans: { tpid: number; vid: number }[] = []): Buffer {
  const h = Buffer.alloc(14 + vlans.length * 4);
  Buffer.from([0x02, 0, 0, 0, 0, 2]).copy(h, 0);
  Buffer.from([0x02, 0, 0, 0, 0, 1]).copy(h, 6);
  let p = 12;
  for (const v of vlans) {
    h.writeUInt16BE(v.tpid, p);
    h.writeUInt16BE(v.vid, p + 2);
    p += 4;
  }
  h.writeUInt16BE(etherType, p);
  return Buffer.concat([h, payload]);
}

export function sll(protocol: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // packet type: to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  Buffer.from([2, 0, 0, 0, 0, 1]).copy(h, 6);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, payload]);
}

export function sll2(protocol: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(2, 4); // ifindex
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[10] = 0;
  h[11] = 6;
  Buffer.from([2, 0, 0, 0, 0, 1]).copy(h, 12);
  return Buffer.concat([h, payload]);
}

export function nullHeader(family: number, le: boolean, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  if (le) h.writeUInt32LE(family);
  else h.writeUInt32BE(family);
  return Buffer.concat([h, payload]);
}

/** Ethernet/IPv4/TCP with the given payload: the usual small test packet. */
export function etherTcp4(payload: Buffer, o: Partial<TcpOpts> = {}): Buffer {
  return ether(0x0800, ipv4({ proto: 6, payload: tcp({ sport: 40000, dport: 1883, ...o, payload }) }));
}
