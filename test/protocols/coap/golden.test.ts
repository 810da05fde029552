// Golden runs: each capture through the CoAP handlers (via the test-only pcap reader and flow
// grouping), compared field by field with tshark 4.0's decoding stored in fixtures/*.tshark.json
// (regenerate with fixtures/make-golden.mjs). tshark pairs only responses that share the
// request's message ID (piggybacked, NON); where it pairs, we must agree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CoapMessage } from '../../../src/events/types';
import { coapCodeString } from '../../../src/protocols/coap';
import { runCapture } from './helpers/run-capture';

const ROOT = join(__dirname, '..', '..', '..');

interface TsharkRecord {
  frame: number;
  type: number | null;
  code: number;
  mid: number | null;
  token: string;
  optionNumbers: number[];
  uriPath: string[];
  uriQuery: string[];
  uriHost: string | null;
  observe: number | null;
  block: { num: number; more: boolean; szx: number } | null;
  size1: number | null;
  oscorePartialIv: string | null;
  oscoreKid: string | null;
  payloadLength: number;
  responseTo: number | null;
}

function load(name: string): { capture: string; records: TsharkRecord[] } {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', `${name}.tshark.json`), 'utf8'));
}

const TYPES = ['CON', 'NON', 'ACK', 'RST'];

function compare(r: TsharkRecord, m: CoapMessage): void {
  const where = `frame ${r.frame}`;
  expect(m.frame, where).toBe(r.frame);
  expect(m.msgType, where).toBe(r.type === null ? 'CON' : TYPES[r.type]);
  expect(m.code, where).toBe(coapCodeString(r.code));
  expect(m.messageId, where).toBe(r.mid ?? 0);
  expect(m.token, where).toBe(r.token);
  expect(m.options.map((o) => o.number), where).toEqual(r.optionNumbers);
  const path = r.uriPath.length > 0 ? '/' + r.uriPath.join('/') : m.kind === 'request' ? '/' : undefined;
  expect(m.uriPath, where).toBe(path);
  expect(m.uriQuery, where).toBe(r.uriQuery.length > 0 ? r.uriQuery.join('&') : undefined);
  expect(m.uriHost, where).toBe(r.uriHost ?? undefined);
  expect(m.observe, where).toBe(r.observe ?? undefined);
  if (r.block !== null) {
    const first = m.options.find((o) => o.number === 23 || o.number === 27)!;
    const block = first.number === 23 ? m.block2! : m.block1!;
    expect({ num: block.num, more: block.more, size: block.size }, where).toEqual({
      num: r.block.num, more: r.block.more, size: r.block.szx === 7 ? (m.flow.proto === 'tcp' ? 1024 : 0) : 16 << r.block.szx,
    });
  } else {
    expect(m.block1 ?? m.block2, where).toBeUndefined();
  }
  expect(m.size1, where).toBe(r.size1 ?? undefined);
  expect(m.oscore?.partialIv, where).toBe(r.oscorePartialIv ?? undefined);
  if (m.oscore !== undefined) expect(m.oscore.kid ?? '', where).toBe(r.oscoreKid ?? '');
  expect(m.payloadLength, where).toBe(r.payloadLength);
}

/**
 * Where tshark pairs a response, we pair it with the same request, with one documented
 * exception: over TCP tshark pairs by token with the first request that used it, so the answer
 * to a deregistration (GET with Observe 1, RFC 7641 3.6) goes to the registration (Observe 0);
 * we pair it with the deregistration request that it answers.
 */
function comparePairing(r: TsharkRecord, m: CoapMessage, byFrame: Map<number, CoapMessage>): void {
  if (r.responseTo === null) return;
  const where = `frame ${r.frame}`;
  expect(m.matched, where).toBe(true);
  if (m.requestFrame === r.responseTo) return;
  const ours = byFrame.get(m.requestFrame!)!;
  const theirs = byFrame.get(r.responseTo)!;
  expect({ proto: m.flow.proto, observe: m.observe }, where).toEqual({ proto: 'tcp', observe: undefined });
  expect({ observe: ours.observe, token: ours.token, flow: ours.flow.flowId }, where)
    .toEqual({ observe: 1, token: m.token, flow: m.flow.flowId });
  expect({ observe: theirs.observe, token: theirs.token }, where).toEqual({ observe: 0, token: m.token });
}

function golden(name: string): { messages: CoapMessage[]; records: TsharkRecord[] } {
  const { capture, records } = load(name);
  const { events } = runCapture(join(ROOT, capture));
  expect(events.filter((e) => e.type === 'anomaly')).toEqual([]);
  const messages = events.filter((e): e is CoapMessage => e.type === 'coap.message');
  expect(messages.map((m) => m.frame)).toEqual(records.map((r) => r.frame));
  records.forEach((r, i) => compare(r, messages[i]));
  const byFrame = new Map(messages.map((m) => [m.frame, m]));
  records.forEach((r, i) => comparePairing(r, messages[i], byFrame));
  return { messages, records };
}

// Message counts as listed in test/fixtures/public/MANIFEST.tsv and pcaps/README.md.
describe.each([
  ['ioppytest-core-01', 2],
  ['ioppytest-core-02', 2],
  ['ioppytest-core-03', 2],
  ['ioppytest-mingled', 4],
  ['rawsight-coap2', 2],
  ['coap-basic', 79],
  ['coap-tcp', 38],
])('golden: %s', (name, count) => {
  it(`decodes the ${count} messages tshark decodes, field by field`, () => {
    const { messages } = golden(name);
    expect(messages).toHaveLength(count);
  });
});

describe('golden: pairing beyond tshark in pcaps/coap-basic.pcap', () => {
  const { messages } = golden('coap-basic');
  const byFrame = new Map(messages.map((m) => [m.frame, m]));

  it('every response is explained by a request', () => {
    const responses = messages.filter((m) => m.kind === 'response');
    expect(responses.length).toBeGreaterThan(30);
    for (const r of responses) expect(r.matched, `frame ${r.frame}`).toBe(true);
  });

  it('Observe notifications pair with the registering GET (Observe 0) of their flow and token', () => {
    const notes = messages.filter((m) => m.kind === 'response' && m.msgType === 'CON' && m.observe !== undefined);
    expect(notes.length).toBeGreaterThanOrEqual(2);
    for (const n of notes) {
      const req = byFrame.get(n.requestFrame!)!;
      expect(req).toMatchObject({ kind: 'request', observe: 0, token: n.token, uriPath: '/time' });
      expect(req.flow.flowId).toBe(n.flow.flowId);
    }
  });

  it('the delayed /async answer is a separate response after an empty ACK', () => {
    const req = messages.find((m) => m.uriPath === '/async' && m.kind === 'request')!;
    expect(req.uriQuery).toBe('3');
    const flowMsgs = messages.filter((m) => m.flow.flowId === req.flow.flowId);
    const ack = flowMsgs.find((m) => m.msgType === 'ACK' && m.kind === 'empty' && m.messageId === req.messageId)!;
    expect(ack).toMatchObject({ matched: true, requestFrame: req.frame });
    const sep = flowMsgs.find((m) => m.kind === 'response')!;
    expect(sep).toMatchObject({ msgType: 'CON', matched: true, requestFrame: req.frame, requestPath: '/async', requestMethod: 'GET' });
    expect(sep.rttUs).toBeGreaterThan(2_500_000);
    // The pings (empty CON) in between are answered by RST, which pair with no request.
    const rsts = flowMsgs.filter((m) => m.msgType === 'RST');
    expect(rsts.length).toBeGreaterThan(0);
    for (const r of rsts) expect(r.matched).toBeUndefined();
  });

  it('shows block-wise transfers, NON, No-Response, OSCORE, IPv6 and several clients', () => {
    expect(messages.some((m) => m.block1?.more === true && m.method === 'PUT')).toBe(true);
    expect(messages.some((m) => m.block2 !== undefined && m.kind === 'response' && m.block2.num > 0)).toBe(true);
    expect(messages.some((m) => m.msgType === 'NON' && m.kind === 'response' && m.matched)).toBe(true);
    expect(messages.some((m) => m.options.some((o) => o.name === 'No-Response' && o.value === 2))).toBe(true);
    expect(messages.some((m) => m.options.some((o) => o.name === 'Request-Tag'))).toBe(true);
    expect(messages.some((m) => m.options.some((o) => o.name === 'Echo'))).toBe(true);
    expect(messages.find((m) => m.oscore !== undefined)?.oscore).toEqual({ partialIv: '14', kid: '' });
    expect(messages.some((m) => m.flow.src.includes(':'))).toBe(true);
    expect(new Set(messages.map((m) => m.flow.dir === 'to_server' ? m.flow.src : m.flow.dst)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(messages.map((m) => m.code))).toEqual(new Set(['0.01', '0.02', '0.03', '0.04', '0.00', '2.01', '2.02', '2.05', '2.31', '4.02', '4.04']));
  });
});

describe('golden: pairing and signals in pcaps/coap-tcp.pcap', () => {
  const { messages } = golden('coap-tcp');

  it('CSM signals open every connection, in both directions (RFC 8323 5.3)', () => {
    const byFlow = new Map<number, CoapMessage[]>();
    for (const m of messages) byFlow.set(m.flow.flowId, [...(byFlow.get(m.flow.flowId) ?? []), m]);
    for (const msgs of byFlow.values()) {
      for (const dir of ['to_server', 'to_client']) {
        expect(msgs.find((m) => m.flow.dir === dir)).toMatchObject({ kind: 'signal', code: '7.01' });
      }
    }
  });

  it('every response over TCP pairs by token, notifications included', () => {
    for (const r of messages.filter((m) => m.kind === 'response')) expect(r.matched, `frame ${r.frame}`).toBe(true);
  });
});
