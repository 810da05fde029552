import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureFormatError } from '../../src/capture/format';
import { createDecodedPacket, PacketDecoder } from '../../src/capture/link';
import { CaptureParser, readCapture, readCaptureStream } from '../../src/capture/reader';
import type { PacketRecord } from '../../src/capture/types';
import { snapshot, type Seen } from './helpers/collect';
import { etherTcp4 } from './helpers/packets';
import { writePcap, writePcapng } from './helpers/writers';

const FIXTURES = resolve(__dirname, '../fixtures/capture');
const dir = mkdtempSync(join(tmpdir(), 'iotwatch-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tmpFile(name: string, data: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

async function readAll(path: string, chunkSize?: number): Promise<{ packets: Seen[]; stats: Awaited<ReturnType<typeof readCapture>> }> {
  const packets: Seen[] = [];
  const stats = await readCapture(path, (r) => packets.push(snapshot(r)), { chunkSize });
  return { packets, stats };
}

function manyPackets(n: number): Buffer {
  const packets = [];
  for (let i = 0; i < n; i++) packets.push({ sec: 1000 + i, frac: i, data: etherTcp4(Buffer.from(`payload ${i}`)) });
  return writePcap({ linkType: 1, packets });
}

describe('readCapture', () => {
  it('streams a file in chunks and counts frames across chunks', async () => {
    const file = tmpFile('many.pcap', manyPackets(500));
    for (const chunkSize of [undefined, 7, 100, 4096]) {
      const { packets, stats } = await readAll(file, chunkSize);
      expect(stats.packets).toBe(500);
      expect(packets[499].frame).toBe(500);
      expect(packets[123].tsUs).toBe(1123 * 1e6 + 123);
    }
  });

  it('reads a file into reused buffers: every packet as in the file, progress and back-pressure per chunk', async () => {
    const data = manyPackets(300);
    const file = tmpFile('reuse.pcap', data);
    const whole = await readCaptureStream(Readable.from([data]), 'mem', () => {});
    const seen: Seen[] = [];
    const progress: number[] = [];
    let waits = 0;
    const stats = await readCapture(file, (r) => seen.push(snapshot(r)), {
      chunkSize: 1000,
      onRead: (n) => progress.push(n),
      between: async () => { waits++; },
    });
    expect(stats).toEqual(whole);
    const expected: Seen[] = [];
    await readCaptureStream(Readable.from([data]), 'mem', (r) => expected.push(snapshot(r)));
    expect(seen).toEqual(expected);
    expect(progress).toHaveLength(Math.ceil(data.length / 1000));
    expect(progress[progress.length - 1]).toBe(data.length);
    expect(waits).toBe(progress.length);
    // The same options on a stream and on gzip (read by the stream path).
    for (const [input, size] of [[Readable.from([data.subarray(0, 5000), data.subarray(5000)]), data.length], [tmpFile('reuse.pcap.gz', gzipSync(data)), -1]] as const) {
      const marks: number[] = [];
      let n = 0;
      const st = typeof input === 'string'
        ? await readCapture(input, () => {}, { onRead: (b) => marks.push(b), between: async () => { n++; } })
        : await readCaptureStream(input, 'mem', () => {}, { onRead: (b) => marks.push(b), between: async () => { n++; } });
      expect(st.packets).toBe(300);
      expect(n).toBe(marks.length);
      expect(marks.length).toBeGreaterThan(0);
      if (size > 0) expect(marks[marks.length - 1]).toBe(size);
    }
  });

  it('reads gzip-compressed pcap and pcapng', async () => {
    const pcap = manyPackets(50);
    const ng = writePcapng([{ blocks: [{ type: 'idb', linkType: 1 }, { type: 'epb', iface: 0, ts: 9n, data: etherTcp4(Buffer.from('z')) }] }]);
    const a = await readAll(tmpFile('a.pcap.gz', gzipSync(pcap)), 64);
    expect(a.stats).toMatchObject({ format: 'pcap', packets: 50, warnings: [] });
    const b = await readAll(tmpFile('b.pcapng.gz', gzipSync(ng)));
    expect(b.stats).toMatchObject({ format: 'pcapng', packets: 1, warnings: [] });
  });

  it('keeps the packets of a cut gzip file and warns', async () => {
    const gz = gzipSync(manyPackets(2000));
    const { packets, stats } = await readAll(tmpFile('cut.pcap.gz', gz.subarray(0, Math.floor(gz.length / 2))));
    expect(packets.length).toBeGreaterThan(100);
    expect(packets.length).toBeLessThan(2000);
    expect(stats.warnings.some((w) => w.includes('gzip stream damaged'))).toBe(true);
    expect(stats.truncatedAt).toBeGreaterThan(0);
  });

  it('reads the real tcpdump nanosecond capture and its gzip copy alike', async () => {
    const plain = await readAll(join(FIXTURES, 'lo-nano.pcap'));
    const gz = await readAll(join(FIXTURES, 'lo-nano.pcap.gz'));
    expect(plain.stats.packets).toBe(13);
    expect(gz).toEqual(plain);
    // tshark: frame.time_epoch 1795555062.259864850 for frame 1
    expect(plain.packets[0].tsUs).toBe(1795555062259864);
  });

  it('reads the real dumpcap pcapng (if_tsresol 9, ISB)', async () => {
    const { packets, stats } = await readAll(join(FIXTURES, 'lo-dumpcap.pcapng'));
    expect(stats).toMatchObject({ format: 'pcapng', packets: 4, drops: 0, warnings: [] });
    // tshark: 1795555673.586367576 and 1795555673.586441275
    expect(packets.slice(0, 2).map((p) => p.tsUs)).toEqual([1795555673586367, 1795555673586441]);
    const dec = new PacketDecoder();
    const out = createDecodedPacket();
    const rec = { ...packets[0], buf: Buffer.from(packets[0].data, 'hex'), off: 0, caplen: packets[0].data.length / 2 } as PacketRecord;
    expect(dec.decode(rec, out)).toBe(true);
    expect([out.proto, out.dport, out.buf.toString('latin1', out.payloadOff, out.payloadOff + out.payloadLen)]).toEqual([17, 45680, 'dumpcap 0']);
  });

  it('reads standard input for "-"', () => {
    const script = join(dir, 'stdin-reader.ts');
    writeFileSync(
      script,
      `import { readCapture } from ${JSON.stringify(resolve(__dirname, '../../src/capture/reader'))};\n` +
        `readCapture('-', () => {}).then((s) => console.log(JSON.stringify(s)), (e) => { console.log('ERR ' + e.message); });\n`,
    );
    const viteNode = resolve(__dirname, '../../node_modules/.bin/vite-node');
    const run = (input: Buffer): string =>
      spawnSync(viteNode, [script], { input, encoding: 'utf8', timeout: 60000 }).stdout.trim().split('\n').pop() ?? '';
    const ok = JSON.parse(run(readFileSync(join(FIXTURES, 'lo-nano.pcap'))));
    expect(ok).toMatchObject({ format: 'pcap', packets: 13, warnings: [] });
    const gz = JSON.parse(run(readFileSync(join(FIXTURES, 'lo-nano.pcap.gz'))));
    expect(gz).toMatchObject({ format: 'pcap', packets: 13 });
    expect(run(Buffer.from('XCP\0' + 'x'.repeat(100)))).toBe(
      'ERR iotwatch: stdin: not a pcap or pcapng file (looks like NetXRay/Sniffer capture, magic 58 43 50 00)',
    );
  }, 60000);

  it('reads any Readable, delivering packets as chunks arrive', async () => {
    const file = manyPackets(10);
    const chunks = [file.subarray(0, 1), file.subarray(1, 30), file.subarray(30)];
    const seen: number[] = [];
    const stats = await readCaptureStream(Readable.from(chunks), 'mem', (r) => seen.push(r.frame));
    expect(stats.packets).toBe(10);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('stops with the abort reason when the signal fires', async () => {
    const file = tmpFile('abort.pcap', manyPackets(3000));
    const ac = new AbortController();
    let n = 0;
    const p = readCapture(
      file,
      () => {
        if (++n === 10) ac.abort(new Error('stop here'));
      },
      { signal: ac.signal, chunkSize: 1024 },
    );
    await expect(p).rejects.toThrow('stop here');
    expect(n).toBeLessThan(3000);
    const pre = new AbortController();
    pre.abort(new Error('already'));
    await expect(readCapture(file, () => {}, { signal: pre.signal })).rejects.toThrow('already');
  });

  it('rejects with the I/O error for a missing file', async () => {
    await expect(readCapture(join(dir, 'nope.pcap'), () => {})).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('inputs that are not pcap or pcapng', () => {
  const cases: [string, Buffer, string][] = [
    [
      'capture.cap',
      Buffer.concat([Buffer.from('XCP\x00002.000\x00'), Buffer.alloc(120)]),
      'iotwatch: capture.cap: not a pcap or pcapng file (looks like NetXRay/Sniffer capture, magic 58 43 50 00)',
    ],
    [
      'sniffer.enc',
      Buffer.concat([Buffer.from('TRSNIFF data    \x1a'), Buffer.alloc(40)]),
      'iotwatch: sniffer.enc: not a pcap or pcapng file (looks like Sniffer (DOS) capture, magic 54 52 53 4e)',
    ],
    [
      'x.snoop',
      Buffer.concat([Buffer.from('snoop\0\0\0'), Buffer.from([0, 0, 0, 2, 0, 0, 0, 4]), Buffer.alloc(40)]),
      'iotwatch: x.snoop: not a pcap or pcapng file (looks like snoop capture, magic 73 6e 6f 6f)',
    ],
    [
      'notes.txt',
      Buffer.from('hello, this is a text file\n'),
      'iotwatch: notes.txt: not a pcap or pcapng file (looks like text "hello, this is a", magic 68 65 6c 6c)',
    ],
    [
      'trace.erf',
      Buffer.from('0000000000a0dd65020400500000004a', 'hex'),
      'iotwatch: trace.erf: not a pcap or pcapng file (looks like Endace ERF capture, magic 00 00 00 00)',
    ],
    [
      'junk.bin',
      Buffer.from('deadbeef0102030405060708090a0b0c0d', 'hex'),
      'iotwatch: junk.bin: not a pcap or pcapng file (unknown format, magic de ad be ef)',
    ],
    [
      'c.pcap.zst',
      Buffer.from('28b52ffd0458010000000000000000000000', 'hex'),
      'iotwatch: c.pcap.zst: not a pcap or pcapng file (looks like zstd-compressed data, magic 28 b5 2f fd)',
    ],
    ['empty.pcap', Buffer.alloc(0), 'iotwatch: empty.pcap: empty file, not a pcap or pcapng capture'],
    ['tiny.pcap', Buffer.from([0xd4, 0xc3]), 'iotwatch: tiny.pcap: only 2 byte(s), too short for a pcap or pcapng file (magic d4 c3)'],
  ];

  for (const [name, data, message] of cases) {
    it(`${name}: one-line CaptureFormatError naming the file and the format seen`, async () => {
      const path = tmpFile(name, data);
      const err = await readCapture(path, () => {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CaptureFormatError);
      expect((err as Error).message).toBe(message.replace(`iotwatch: ${name}:`, `iotwatch: ${path}:`));
      expect((err as Error).message).not.toContain('\n');
      // the push parser raises the same error, by name
      expect(() => {
        const p = new CaptureParser(() => {}, { name });
        p.feed(data);
        p.end();
      }).toThrow(message);
    });
  }

  it('reports the format seen on the error object', async () => {
    const err = (await readCapture(tmpFile('n.cap', Buffer.from('XCP\0aaaaaaaaaaaaaaaa')), () => {}).catch((e: unknown) => e)) as CaptureFormatError;
    expect(err.seen).toBe('NetXRay/Sniffer capture');
    expect(err.name).toBe('CaptureFormatError');
  });
});
