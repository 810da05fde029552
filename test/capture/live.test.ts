// Live capture for real: libpcap on the loopback interface through the optional `cap`
// package. Needs root (or CAP_NET_RAW) and cap installed; without them the test fails with
// the reason instead of skipping.
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDecodedPacket, PacketDecoder } from '../../src/capture/link';
import { CAP_MISSING_MESSAGE, capLinkType, startLiveCapture } from '../../src/capture/live';

const dir = mkdtempSync(join(tmpdir(), 'iotwatch-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (!cond() && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
}

describe('live capture', () => {
  it('captures UDP datagrams sent to 127.0.0.1 on lo with a BPF filter', async () => {
    const port = await freeUdpPort();
    const other = await freeUdpPort();
    const decoder = new PacketDecoder();
    const out = createDecodedPacket();
    const got: { sport: number; dport: number; payload: string; tsUs: number; frame: number }[] = [];
    const before = Date.now() * 1000;
    const live = startLiveCapture({ iface: 'lo', bpf: `udp port ${port}`, snaplen: 2048, bufferSize: 1 << 20 }, (rec) => {
      if (decoder.decode(rec, out)) {
        got.push({
          sport: out.sport,
          dport: out.dport,
          payload: out.buf.toString('latin1', out.payloadOff, out.payloadOff + out.payloadLen),
          tsUs: rec.tsUs,
          frame: rec.frame,
        });
      }
    });
    const sender = dgram.createSocket('udp4');
    try {
      expect(live.linkName).toBe('ETHERNET'); // Linux lo is DLT_EN10MB
      expect(live.linkType).toBe(1);
      await new Promise<void>((r) => sender.bind(0, '127.0.0.1', r));
      const sport = sender.address().port;
      const payloads = ['iotwatch live 1', 'iotwatch live 2', 'x'.repeat(1000)];
      for (const p of payloads) await new Promise((r) => sender.send(p, port, '127.0.0.1', r));
      // Not matching the filter: must not be delivered.
      await new Promise((r) => sender.send('filtered out', other, '127.0.0.1', r));
      await waitFor(() => got.length >= payloads.length, 5000);
      await new Promise((r) => setTimeout(r, 100));
      expect(got.map((g) => [g.sport, g.dport, g.payload])).toEqual(payloads.map((p) => [sport, port, p]));
      expect(got.map((g) => g.frame)).toEqual([1, 2, 3]);
      const after = Date.now() * 1000;
      for (const g of got) {
        expect(g.tsUs).toBeGreaterThanOrEqual(before - 1000);
        expect(g.tsUs).toBeLessThanOrEqual(after + 1000);
      }
      expect(got[1].tsUs).toBeGreaterThanOrEqual(got[0].tsUs);
      const s = live.stats();
      expect(s).toMatchObject({ format: 'live', packets: 3, truncated: 0, drops: 0 });
      expect(s.bytes).toBe(payloads.reduce((n, p) => n + 14 + 20 + 8 + p.length, 0));
    } finally {
      live.stop();
      sender.close();
    }
    live.stop(); // idempotent
  }, 15000);

  it('cuts packets to snaplen and counts them as truncated', async () => {
    const port = await freeUdpPort();
    const seen: number[][] = [];
    const live = startLiveCapture({ iface: 'lo', bpf: `udp dst port ${port}`, snaplen: 64 }, (rec) => seen.push([rec.caplen, rec.wirelen]));
    const sender = dgram.createSocket('udp4');
    try {
      await new Promise((r) => sender.send(Buffer.alloc(500), port, '127.0.0.1', r));
      await waitFor(() => seen.length >= 1, 5000);
      expect(seen[0][0]).toBe(64);
      expect(seen[0][1]).toBeGreaterThan(64);
      expect(live.stats().truncated).toBe(1);
    } finally {
      live.stop();
      sender.close();
    }
  }, 15000);

  it('reports a bad interface or filter as a one-line error', () => {
    expect(() => startLiveCapture({ iface: 'no-such-iface0', bpf: '' }, () => {})).toThrow(/iotwatch: live capture on no-such-iface0: /);
    expect(() => startLiveCapture({ iface: 'lo', bpf: 'udp port banana' }, () => {})).toThrow(/iotwatch: live capture on lo: /);
  });

  it('survives garbage collection after failed opens (cap leaves such handles half set up)', () => {
    // In a child process, so that a crash shows as its exit status and not as a dead test
    // worker. Without the fix this died with SIGSEGV or a libuv assertion at the first gc().
    const script = join(dir, 'failed-open-gc.ts');
    writeFileSync(
      script,
      `import { setFlagsFromString } from 'node:v8';\nimport { runInNewContext } from 'node:vm';\n` +
        `import { startLiveCapture } from ${JSON.stringify(resolve(__dirname, '../../src/capture/live'))};\n` +
        `setFlagsFromString('--expose-gc');\nconst gc = runInNewContext('gc') as () => void;\n` +
        `let failed = 0;\n` +
        `for (let i = 0; i < 3; i++) for (const o of [{ iface: 'no-such-iface0' }, { iface: 'lo', bpf: 'udp port banana' }]) {\n` +
        `  try { startLiveCapture(o, () => {}); } catch { failed++; }\n}\n` +
        `for (let i = 0; i < 5; i++) { new Array(1e6).fill(i); gc(); }\n` +
        `setTimeout(() => { gc(); console.log('ALIVE ' + failed); }, 100);\n`,
    );
    const r = spawnSync(resolve(__dirname, '../../node_modules/.bin/vite-node'), [script], { encoding: 'utf8', timeout: 60000 });
    expect({ status: r.status, signal: r.signal, last: r.stdout.trim().split('\n').pop() }).toEqual({ status: 0, signal: null, last: 'ALIVE 6' });
  }, 60000);

  it('says how to install cap when it is missing', () => {
    // Hide `cap` from the module resolver in a child process and call startLiveCapture there.
    const preload = join(dir, 'hide-cap.cjs');
    writeFileSync(
      preload,
      `const M = require('module'); const orig = M._resolveFilename;
       M._resolveFilename = function (req, ...rest) {
         if (req === 'cap') { const e = new Error("Cannot find module 'cap'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
         return orig.call(this, req, ...rest);
       };`,
    );
    const script = join(dir, 'no-cap.ts');
    writeFileSync(
      script,
      `import { startLiveCapture } from ${JSON.stringify(resolve(__dirname, '../../src/capture/live'))};\n` +
        `try { startLiveCapture({ iface: 'lo' }, () => {}); console.log('NO ERROR'); } catch (e) { console.log('ERR ' + (e as Error).message); }\n`,
    );
    const r = spawnSync(resolve(__dirname, '../../node_modules/.bin/vite-node'), [script], {
      encoding: 'utf8',
      timeout: 60000,
      env: { ...process.env, NODE_OPTIONS: `--require ${preload}` },
    });
    expect(r.stdout.trim().split('\n').pop()).toBe(`ERR ${CAP_MISSING_MESSAGE}`);
    expect(CAP_MISSING_MESSAGE).toBe("live capture needs the optional package 'cap' (npm install cap; needs libpcap-dev)");
  }, 60000);

  it('maps the link type names cap reports', () => {
    expect(['NULL', 'ETHERNET', 'LINKTYPE_LINUX_SLL', 'RAW', 'IEEE802_11_RADIO', 'Unknown linktype 276', 'odd'].map(capLinkType)).toEqual([0, 1, 113, 101, 127, 276, -1]);
  });
});
