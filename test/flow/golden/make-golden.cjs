#!/usr/bin/env node
// Regenerates flows.json, the tshark reference for test/flow/golden.test.ts:
//   node test/flow/golden/make-golden.cjs > test/flow/golden/flows.json
// Needs tshark (checked with 4.0). For every pcap and pcapng under test/fixtures/public: each
// TCP/UDP conversation tshark sees (tcp.stream / udp.stream), its Community ID, packet and
// payload byte counts per direction and, for TCP, the SHA-256 of each direction's stream
// as tshark's "Follow TCP stream" reassembles it, or lostSegments when tshark saw the
// capture miss segments. Node 0 is the first packet's sender.
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../../fixtures/public');
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.pcap(ng)?$/.test(e.name)) files.push(p);
  }
})(root);
files.sort();

const tshark = (args) => execFileSync('tshark', args, { encoding: 'latin1', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
const first = (v) => (v ?? '').split(',')[0];
const ep = (ip, port) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

const out = {};
for (const file of files) {
  const rel = path.relative(root, file);
  const lines = tshark(['-r', file, '--enable-protocol', 'communityid', '-Y', '(tcp || udp) && !icmp && !icmpv6',
    '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f',
    '-e', 'frame.number', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst', '-e', 'ipv6.dst',
    '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'udp.srcport', '-e', 'udp.dstport',
    '-e', 'tcp.stream', '-e', 'udp.stream', '-e', 'communityid', '-e', 'tcp.len', '-e', 'udp.length',
    '-e', 'tcp.analysis.lost_segment', '-e', 'tcp.analysis.ack_lost_segment']).split('\n').filter(Boolean);
  const convs = new Map();
  for (const line of lines) {
    const [frame, s4, s6, d4, d6, tsp, tdp, usp, udp, ts, us, cid, tlen, ulen, lost, ackLost] = line.split('\t');
    const tcp = ts !== '';
    const key = tcp ? `tcp${ts}` : `udp${us}`;
    const src = ep(first(s4) || first(s6), tcp ? tsp : usp);
    const dst = ep(first(d4) || first(d6), tcp ? tdp : udp);
    let c = convs.get(key);
    if (!c) {
      c = { proto: tcp ? 'tcp' : 'udp', stream: Number(tcp ? ts : us), firstFrame: Number(frame), communityId: cid, node0: src, node1: dst, packets: [0, 0], bytes: [0, 0] };
      convs.set(key, c);
    }
    const d = src === c.node0 ? 0 : 1;
    c.packets[d]++;
    if (lost || ackLost) c.lostSegments = true;
    c.bytes[d] += tcp ? Number(tlen || 0) : Math.max(0, Number(ulen || 8) - 8);
  }
  for (const c of convs.values()) {
    // Where the capture lost segments tshark's follow output has no fixed meaning (it may
    // pad or not); the test checks that gaps are reported instead.
    if (c.proto !== 'tcp' || c.lostSegments) continue;
    const follow = tshark(['-r', file, '-q', '-z', `follow,tcp,raw,${c.stream}`]);
    const parts = [[], []];
    let node0 = '';
    for (const line of follow.split('\n')) {
      if (line.startsWith('Node 0: ')) node0 = line.slice(8).trim();
      if (!/^\t?[0-9a-f]+$/.test(line)) continue;
      parts[line.startsWith('\t') ? 1 : 0].push(Buffer.from(line.trim(), 'hex'));
    }
    const flip = node0 !== '' && node0 !== c.node0;
    const dirs = flip ? [parts[1], parts[0]] : parts;
    c.streams = dirs.map((p) => {
      const b = Buffer.concat(p);
      return { length: b.length, sha256: createHash('sha256').update(b).digest('hex') };
    });
  }
  out[rel] = [...convs.values()].map(({ stream, ...c }) => c);
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
