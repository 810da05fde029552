// Writes a large pcap of mixed MQTT and CoAP traffic for `npm run bench`: many concurrent
// MQTT 3.1.1 sessions (handshake, CONNECT/CONNACK, QoS 0 and QoS 1 telemetry with PUBACKs,
// pings, DISCONNECT, FIN) and CoAP clients (CON GET answered by piggybacked 2.05, NON
// reports), interleaved. Packets are well-formed Ethernet/IPv4/TCP|UDP so tshark decodes
// the same file for comparison. Streamed to disk: memory stays flat whatever the size.
import { closeSync, openSync, writeSync } from 'node:fs';

const ETH = 14;
const IP = 20;
const TCP = 20;
const UDP = 8;

class PcapWriter {
  private buf = Buffer.alloc(8 * 1024 * 1024);
  private pos = 0;
  packets = 0;
  constructor(private readonly fd: number) {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(65535, 16);
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    writeSync(fd, h);
  }
  /** Reserve room for one packet of `len` bytes at time tsUs; returns the offset of its data. */
  begin(tsUs: number, len: number): number {
    if (this.pos + 16 + len > this.buf.length) this.flush();
    const b = this.buf;
    b.writeUInt32LE(Math.floor(tsUs / 1e6), this.pos);
    b.writeUInt32LE(tsUs % 1e6, this.pos + 4);
    b.writeUInt32LE(len, this.pos + 8);
    b.writeUInt32LE(len, this.pos + 12);
    const at = this.pos + 16;
    this.pos = at + len;
    this.packets++;
    return at;
  }
  get bytes(): Buffer {
    return this.buf;
  }
  flush(): void {
    writeSync(this.fd, this.buf, 0, this.pos);
    this.pos = 0;
  }
}

function ipv4(b: Buffer, at: number, src: number, dst: number, proto: number, payload: number): void {
  // Ethernet: fixed MACs, EtherType IPv4.
  b.writeUInt32BE(0x02000000, at); b.writeUInt16BE(0x0001, at + 4);
  b.writeUInt32BE(0x02000000, at + 6); b.writeUInt16BE(0x0002, at + 10);
  b.writeUInt16BE(0x0800, at + 12);
  const ip = at + ETH;
  b[ip] = 0x45; b[ip + 1] = 0;
  b.writeUInt16BE(IP + payload, ip + 2);
  b.writeUInt32BE(0x00004000, ip + 4); // id 0, DF
  b[ip + 8] = 64; b[ip + 9] = proto;
  b.writeUInt16BE(0, ip + 10);
  b.writeUInt32BE(src >>> 0, ip + 12);
  b.writeUInt32BE(dst >>> 0, ip + 16);
}

interface TcpConn {
  cli: number; srv: number; cport: number; sport: number;
  cseq: number; sseq: number; mid: number; id: string;
}

function tcp(w: PcapWriter, ts: number, c: TcpConn, toServer: boolean, flags: number, payload: Buffer | null): void {
  const plen = payload ? payload.length : 0;
  const len = ETH + IP + TCP + plen;
  const at = w.begin(ts, len);
  const b = w.bytes;
  ipv4(b, at, toServer ? c.cli : c.srv, toServer ? c.srv : c.cli, 6, TCP + plen);
  const t = at + ETH + IP;
  b.writeUInt16BE(toServer ? c.cport : c.sport, t);
  b.writeUInt16BE(toServer ? c.sport : c.cport, t + 2);
  b.writeUInt32BE((toServer ? c.cseq : c.sseq) >>> 0, t + 4);
  b.writeUInt32BE((toServer ? c.sseq : c.cseq) >>> 0, t + 8);
  b[t + 12] = 0x50; b[t + 13] = flags;
  b.writeUInt16BE(65535, t + 14);
  b.writeUInt32BE(0, t + 16);
  if (payload) payload.copy(b, t + TCP);
  const adv = plen + (flags & 0x03 ? 1 : 0); // SYN and FIN take a sequence number
  if (toServer) c.cseq = (c.cseq + adv) >>> 0; else c.sseq = (c.sseq + adv) >>> 0;
}

function udp(w: PcapWriter, ts: number, src: number, dst: number, sp: number, dp: number, payload: Buffer): void {
  const at = w.begin(ts, ETH + IP + UDP + payload.length);
  const b = w.bytes;
  ipv4(b, at, src, dst, 17, UDP + payload.length);
  const u = at + ETH + IP;
  b.writeUInt16BE(sp, u); b.writeUInt16BE(dp, u + 2);
  b.writeUInt16BE(UDP + payload.length, u + 4); b.writeUInt16BE(0, u + 6);
  payload.copy(b, u + UDP);
}

function str(s: string): Buffer {
  const v = Buffer.from(s);
  const b = Buffer.alloc(2 + v.length);
  b.writeUInt16BE(v.length, 0);
  v.copy(b, 2);
  return b;
}

function mqtt(type: number, flags: number, body: Buffer): Buffer {
  const len = body.length;
  const hdr = len < 128 ? Buffer.from([(type << 4) | flags, len]) : Buffer.from([(type << 4) | flags, (len & 0x7f) | 0x80, len >> 7]);
  return Buffer.concat([hdr, body]);
}

const CONNACK = mqtt(2, 0, Buffer.from([0, 0]));
const PINGREQ = mqtt(12, 0, Buffer.alloc(0));
const PINGRESP = mqtt(13, 0, Buffer.alloc(0));
const DISCONNECT = mqtt(14, 0, Buffer.alloc(0));

function connect(id: string): Buffer {
  return mqtt(1, 0, Buffer.concat([str('MQTT'), Buffer.from([4, 0x02, 0, 60]), str(id)]));
}

function publish(topic: string, qos: number, mid: number, payload: string): Buffer {
  const parts = [str(topic)];
  if (qos > 0) parts.push(Buffer.from([mid >> 8, mid & 0xff]));
  parts.push(Buffer.from(payload));
  return mqtt(3, qos << 1, Buffer.concat(parts));
}

function coap(type: number, code: number, mid: number, token: number, path: string[], payload?: string): Buffer {
  const parts: Buffer[] = [Buffer.from([0x40 | (type << 4) | 2, code, mid >> 8, mid & 0xff, token >> 8, token & 0xff])];
  let last = 0;
  for (const seg of path) {
    const v = Buffer.from(seg);
    parts.push(Buffer.from([((11 - last) << 4) | v.length]), v); // Uri-Path, short segments
    last = 11;
  }
  if (payload) parts.push(Buffer.from([0xff]), Buffer.from(payload));
  return Buffer.concat(parts);
}

export interface MakeCaptureStats {
  packets: number;
  mqttMessages: number;
  coapMessages: number;
}

/** Writes at least `minPackets` packets to `path`. */
export function makeBenchCapture(path: string, minPackets: number): MakeCaptureStats {
  const fd = openSync(path, 'w');
  const w = new PcapWriter(fd);
  const broker = 0x0a000001; // 10.0.0.1
  const coapServer = 0x0a000002;
  let ts = 1_700_000_000_000_000;
  let mqttMessages = 0;
  let coapMessages = 0;
  const sessions = 500;
  const conns: TcpConn[] = [];
  for (let i = 0; i < sessions; i++) {
    conns.push({ cli: 0x0a010000 + i + 10, srv: broker, cport: 40000 + i, sport: 1883, cseq: 1000 * i, sseq: 7000 * i, mid: 1, id: `meter-${i}` });
  }
  // Open every session.
  for (const c of conns) {
    tcp(w, (ts += 10), c, true, 0x02, null);
    tcp(w, (ts += 10), c, false, 0x12, null);
    tcp(w, (ts += 10), c, true, 0x10, null);
    tcp(w, (ts += 10), c, true, 0x18, connect(c.id)); mqttMessages++;
    tcp(w, (ts += 10), c, false, 0x18, CONNACK); mqttMessages++;
  }
  let round = 0;
  let coapMid = 1;
  while (w.packets < minPackets) {
    round++;
    for (let i = 0; i < sessions; i++) {
      const c = conns[i];
      const topic = `plant/line-${i % 20}/meter-${i}/telemetry`;
      if (round % 4 === 0) {
        const mid = c.mid = (c.mid % 65535) + 1;
        tcp(w, (ts += 5), c, true, 0x18, publish(topic, 1, mid, `{"kwh":${round}.5,"v":230}`)); mqttMessages++;
        tcp(w, (ts += 5), c, false, 0x18, mqtt(4, 0, Buffer.from([mid >> 8, mid & 0xff]))); mqttMessages++;
      } else {
        tcp(w, (ts += 5), c, true, 0x18, publish(topic, 0, 0, `{"kwh":${round}.5,"v":230}`)); mqttMessages++;
        if (round % 2 === 1) tcp(w, (ts += 5), c, false, 0x10, null);
      }
      if (round % 50 === 0) {
        tcp(w, (ts += 5), c, true, 0x18, PINGREQ); mqttMessages++;
        tcp(w, (ts += 5), c, false, 0x18, PINGRESP); mqttMessages++;
      }
      // A CoAP exchange for every second session each round.
      if (i % 2 === 0) {
        const cli = 0x0a020000 + (i % 200) + 10;
        const port = 50000 + (i % 200);
        const mid = coapMid = (coapMid % 65535) + 1;
        if (i % 6 === 0) {
          udp(w, (ts += 5), cli, coapServer, port, 5683, coap(1, 2, mid, mid, ['sensors', `s${i % 200}`, 'report'], '21.5')); coapMessages++;
        } else {
          udp(w, (ts += 5), cli, coapServer, port, 5683, coap(0, 1, mid, mid, ['sensors', `s${i % 200}`, 'temp'])); coapMessages++;
          udp(w, (ts += 5), coapServer, cli, 5683, port, coap(2, 0x45, mid, mid, [], '21.5')); coapMessages++;
        }
      }
    }
  }
  for (const c of conns) {
    tcp(w, (ts += 10), c, true, 0x18, DISCONNECT); mqttMessages++;
    tcp(w, (ts += 10), c, true, 0x11, null);
    tcp(w, (ts += 10), c, false, 0x11, null);
    tcp(w, (ts += 10), c, true, 0x10, null);
  }
  w.flush();
  closeSync(fd);
  return { packets: w.packets, mqttMessages, coapMessages };
}

if (require.main === module) {
  const [path, n] = process.argv.slice(2);
  if (!path) {
    process.stderr.write('usage: make-capture OUT.pcap [PACKETS]\n');
    process.exit(2);
  }
  const s = makeBenchCapture(path, Number(n ?? 2_000_000));
  process.stdout.write(`${path}: ${s.packets} packets, ${s.mqttMessages} MQTT and ${s.coapMessages} CoAP messages\n`);
}
