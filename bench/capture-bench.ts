// Capture-layer benchmark: parse + link/IP/TCP decode of 2M small Ethernet/IPv4/TCP packets
// from an in-memory pcap (and pcapng) fed in 1 MiB chunks, as readCapture would.
// Run: npx vite-node bench/capture-bench.ts   (or compile with tsc and run the .js)
import { createDecodedPacket, PacketDecoder } from '../src/capture/link';
import { CaptureParser } from '../src/capture/reader';
import type { PacketRecord } from '../src/capture/types';

const N = Number(process.env.BENCH_PACKETS ?? 2_000_000);
const CHUNK = 1 << 20;
const PAYLOAD = 12;

function frame(i: number): Buffer {
  const f = Buffer.alloc(14 + 20 + 20 + PAYLOAD);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 20 + PAYLOAD, 16);
  f[22] = 64;
  f[23] = 6;
  f.writeUInt32BE(0x0a000001 + (i & 0xff), 26);
  f.writeUInt32BE(0x0a000101, 30);
  f.writeUInt16BE(40000 + (i & 0x3ff), 34);
  f.writeUInt16BE(1883, 36);
  f.writeUInt32BE((i * 12) >>> 0, 38);
  f[46] = 0x50;
  f[47] = 0x18;
  return f;
}

function makePcap(n: number): Buffer {
  const flen = frame(0).length;
  const out = Buffer.alloc(24 + n * (16 + flen));
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(65535, 16);
  out.writeUInt32LE(1, 20);
  let p = 24;
  for (let i = 0; i < n; i++) {
    out.writeUInt32LE(1700000000 + Math.floor(i / 100000), p);
    out.writeUInt32LE(i % 1000000, p + 4);
    out.writeUInt32LE(flen, p + 8);
    out.writeUInt32LE(flen, p + 12);
    frame(i).copy(out, p + 16);
    p += 16 + flen;
  }
  return out;
}

function makePcapng(n: number): Buffer {
  const flen = frame(0).length;
  const epbLen = 32 + Math.ceil(flen / 4) * 4;
  const shb = Buffer.alloc(28);
  shb.writeUInt32LE(0x0a0d0d0a, 0);
  shb.writeUInt32LE(28, 4);
  shb.writeUInt32LE(0x1a2b3c4d, 8);
  shb.writeUInt16LE(1, 12);
  shb.writeBigInt64LE(-1n, 16);
  shb.writeUInt32LE(28, 24);
  const idb = Buffer.alloc(20);
  idb.writeUInt32LE(1, 0);
  idb.writeUInt32LE(20, 4);
  idb.writeUInt16LE(1, 8);
  idb.writeUInt32LE(20, 16);
  const out = Buffer.alloc(48 + n * epbLen);
  shb.copy(out, 0);
  idb.copy(out, 28);
  let p = 48;
  for (let i = 0; i < n; i++) {
    const ts = 1700000000000000 + i;
    out.writeUInt32LE(6, p);
    out.writeUInt32LE(epbLen, p + 4);
    out.writeUInt32LE(Math.floor(ts / 4294967296), p + 12);
    out.writeUInt32LE(ts >>> 0, p + 16);
    out.writeUInt32LE(flen, p + 20);
    out.writeUInt32LE(flen, p + 24);
    frame(i).copy(out, p + 28);
    out.writeUInt32LE(epbLen, p + epbLen - 4);
    p += epbLen;
  }
  return out;
}

function run(file: Buffer, decode: boolean): { ns: number; packets: number; checksum: number } {
  const decoder = new PacketDecoder();
  const out = createDecodedPacket();
  let checksum = 0;
  const onPacket = decode
    ? (r: PacketRecord): void => {
        if (decoder.decode(r, out)) checksum += out.dport + out.payloadLen;
      }
    : (r: PacketRecord): void => {
        checksum += r.caplen;
      };
  const parser = new CaptureParser(onPacket, { name: 'bench' });
  const t0 = process.hrtime.bigint();
  for (let off = 0; off < file.length; off += CHUNK) parser.feed(file.subarray(off, Math.min(off + CHUNK, file.length)));
  const stats = parser.end();
  const ns = Number(process.hrtime.bigint() - t0);
  if (decode && decoder.stats.decoded !== stats.packets) throw new Error(`decoded ${decoder.stats.decoded} of ${stats.packets}`);
  return { ns, packets: stats.packets, checksum };
}

function main(): void {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  // BENCH_FORMATS=pcapng,pcap picks and orders the formats (each run warms the JIT differently).
  const formats = (process.env.BENCH_FORMATS ?? 'pcap,pcapng').split(',');
  const files: [string, Buffer][] = formats.map((f) => [f, f === 'pcapng' ? makePcapng(N) : makePcap(N)]);
  console.log(`capture bench: ${N} packets of ${frame(0).length} bytes, ${CHUNK >> 10} KiB chunks, best of ${rounds}`);
  for (const [name, file] of files) {
    for (const decode of [false, true]) {
      let best = Infinity;
      let packets = 0;
      for (let i = 0; i < rounds; i++) {
        const r = run(file, decode);
        best = Math.min(best, r.ns);
        packets = r.packets;
      }
      const per = best / packets;
      console.log(
        `${name.padEnd(6)} ${decode ? 'parse+decode' : 'parse only  '}: ${per.toFixed(1)} ns/packet, ${(1000 / per).toFixed(2)} Mpps (${(best / 1e6).toFixed(0)} ms)`,
      );
    }
  }
}

main();
