// coap.amplification: CoAP used as a reflector (RFC 7252 section 11.3). Per target address (where
// responses go): response bytes far above its baseline while responses outweigh requests by
// minRatio, or /.well-known/core answered by many servers. Per server: /.well-known/core answered
// to many addresses (discovery fan-out: a sweep, or requests spoofed from many victims).
import type { CoapMessage } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { dstAddr, serverEndpoint, srcAddr } from './lib/endpoints';
import { round2 } from './lib/stats';
import { CappedSet } from './lib/tables';
import { EntityWindows, rateDefaults, rateSchema, type WindowSlot } from './lib/windows';

export const id = 'coap.amplification';
export const category = 'anomaly';

export const tunables = {
  ...rateDefaults,
  minBytes: 100_000,
  coldBytes: 1_000_000,
  minRatio: 10,
  minServers: 10,
  coldServers: 20,
  minRecipients: 10,
  coldRecipients: 20,
};

export const schema: Schema<typeof tunables> = {
  ...rateSchema,
  minBytes: { type: 'integer', min: 1, max: 1e12, description: 'response bytes to one address per window (absolute floor)' },
  coldBytes: { type: 'integer', min: 1, max: 1e12, description: 'response bytes per window for an address without a mature baseline' },
  minRatio: { type: 'number', min: 1, max: 1e6, description: 'response bytes over request bytes from the same address' },
  minServers: { type: 'integer', min: 1, max: 1e6, description: 'servers answering /.well-known/core to one address per window (absolute floor)' },
  coldServers: { type: 'integer', min: 1, max: 1e6, description: 'discovery servers per window for an address without a mature baseline' },
  minRecipients: { type: 'integer', min: 1, max: 1e6, description: 'addresses one server answers /.well-known/core to per window (absolute floor)' },
  coldRecipients: { type: 'integer', min: 1, max: 1e6, description: 'discovery recipients per window for a server without a mature baseline' },
};

class Traffic {
  requestBytes = 0;
  responses = 0;
  readonly servers = new CappedSet(1024);
}

const DISCOVERY = '/.well-known/core';

export function create(ctx: DetectorContext, t: typeof tunables) {
  const ratio = (s: WindowSlot<Traffic>): number => s.count(0) / Math.max(1, s.x.requestBytes);
  const raise = (s: WindowSlot<Traffic>, ws: number): void => {
    const m = w.firstFired(s);
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: 'address', value: s.key },
      summary: m === 0
        ? `${s.key} received ${s.count(0)} bytes of CoAP responses for ${s.x.requestBytes} bytes of requests in ${t.window} s (x${round2(ratio(s))}).`
        : `${s.count(1)} CoAP servers answered resource discovery (${DISCOVERY}) to ${s.key} in ${t.window} s.`,
      evidence: w.evidence(s, m, { responseBytes: s.count(0), requestBytes: s.x.requestBytes, ratio: round2(ratio(s)), minRatio: t.minRatio, discoveryServers: s.x.servers.values(10) }),
      proof: w.proofOf(s),
      count: s.x.responses,
    });
  };
  const w: EntityWindows<Traffic> = new EntityWindows<Traffic>(ctx, 'targets', { ...t, baseline: t }, [
    { name: 'response_bytes', minCount: t.minBytes, coldThreshold: t.coldBytes },
    { name: 'discovery_servers', minCount: t.minServers, coldThreshold: t.coldServers },
  ], {
    make: () => new Traffic(),
    onClose(s, ws) {
      if (s.fired !== 0) raise(s, ws);
      s.x = new Traffic();
    },
  });

  const raiseServer = (s: WindowSlot<CappedSet>, ws: number): void => {
    ctx.alert({
      key: `server:${s.key}`,
      windowStart: ws,
      entity: { kind: 'server', value: s.key },
      summary: `CoAP server ${s.key} answered resource discovery (${DISCOVERY}) to ${s.count(0)} addresses in ${t.window} s.`,
      evidence: servers.evidence(s, 0, { recipients: s.x.values(10) }),
      proof: s.proof,
      count: s.proof.n,
    });
  };
  const servers: EntityWindows<CappedSet> = new EntityWindows<CappedSet>(ctx, 'servers', { ...t, baseline: t },
    [{ name: 'discovery_recipients', minCount: t.minRecipients, coldThreshold: t.coldRecipients }], {
      make: () => new CappedSet(1024),
      onClose(s, ws) {
        if (s.fired !== 0) raiseServer(s, ws);
        s.x.clear();
      },
    });
  const byServer = servers.bySide(serverEndpoint);
  // A request counts for its source, a response for its receiver: on one flow side, two entities
  // when the peers are client and server to each other.
  const bySource = w.bySide(srcAddr);
  const byDestination = w.bySide(dstAddr);
  /** Every response makes its server's window active (a server that never answers discovery has a baseline of 0). */
  const fanOut = (e: CoapMessage): void => {
    const s = servers.touchSide(e, byServer);
    if (e.requestPath !== DISCOVERY) return;
    s.proof.add(e);
    if (s.x.add(e.flow.dst) && servers.add(s, 0, 1)) raiseServer(s, servers.windowStart);
  };

  return {
    onEvent(e: CoapMessage): void {
      if (e.kind === 'response') fanOut(e);
      if (e.kind === 'request') {
        w.touchSide(e, bySource).x.requestBytes += e.length;
        return;
      }
      if (e.kind !== 'response') return;
      const s = w.touchSide(e, byDestination);
      const before = s.fired;
      s.x.responses++;
      s.c0 += e.length;
      if (w.near0(s) || e.requestPath === DISCOVERY) s.proof.add(e);
      // Bytes alone are a download; only bytes that dwarf the requests make a reflector.
      if (w.over(s, 0) && ratio(s) >= t.minRatio) w.fire(s, 0);
      if (e.requestPath === DISCOVERY && s.x.servers.add(serverEndpoint(e.flow))) w.add(s, 1, 1);
      if (before === 0 && s.fired !== 0) raise(s, w.windowStart);
    },
    tick(now: number): void {
      w.tick(now);
      servers.tick(now);
    },
    flush(): void {
      w.flush();
      servers.flush();
    },
    exportBaseline: () => ({ targets: w.exportJSON(), servers: servers.exportJSON() }),
    importBaseline(d: unknown): void {
      const b = d as { targets?: unknown; servers?: unknown };
      w.importJSON(b.targets);
      servers.importJSON(b.servers);
    },
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'high',
  usesBaseline: true,
  subscribes: ['coap.message'],
  coapMessages: (c) => c.kind === 'request' || c.kind === 'response', // it returns at once on anything else
  description: 'CoAP response bytes to one address far above its baseline and far above its requests, or discovery answered by many servers.',
  recommendation: 'Do not expose CoAP servers to untrusted networks; rate-limit and size-limit responses (especially /.well-known/core), and filter spoofed sources at the network edge (BCP 38).',
  mitre: 'T0814', // Denial of Service: reflected and amplified traffic at the victim
});
