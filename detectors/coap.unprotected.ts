// coap.unprotected: CoAP writes (PUT, POST, DELETE, PATCH, iPATCH) in the clear, without DTLS
// (they would not be decodable) and without OSCORE (RFC 8613): anyone on the path can forge them.
// One finding per server, with the resources written and how many writes it accepted (2.xx).
import type { CoapMessage } from '../src/events/types';
import { defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { methodBit, methodMask } from './lib/coap';
import { serverEndpoint } from './lib/endpoints';
import { FlowMemo } from './lib/flow-memo';
import { Findings, findingSpec, type Finding } from './lib/posture';
import { CappedSet } from './lib/tables';

export const id = 'coap.unprotected';
export const category = 'posture';

export const tunables = {
  writeMethods: ['POST', 'PUT', 'DELETE', 'PATCH', 'iPATCH'] as readonly string[],
};

export const schema: Schema<typeof tunables> = {
  writeMethods: { type: 'string[]', description: 'methods that change state' },
};

/** Paths written, per method (so a write costs a lookup of its path, not a new string). */
class Writes {
  readonly byMethod = new Map<string, CappedSet>();
  accepted = 0;

  resources(limit: number): string[] {
    const out: string[] = [];
    for (const [m, paths] of this.byMethod) for (const p of paths.values(limit)) out.push(`${m} ${p}`);
    return out.slice(0, limit);
  }
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const writes = methodMask(t.writeMethods);
  const memo = new FlowMemo<Finding<Writes>>(ctx.flowMemo);
  const findings = new Findings<Writes>(ctx, () => new Writes(), (f) => {
    const res = f.x.resources(10);
    ctx.alert(findingSpec(f, {
      entity: { kind: 'server', value: f.key },
      severity: f.x.accepted > 0 ? 'high' : 'medium',
      summary: `CoAP server ${f.key} received writes without DTLS or OSCORE on ${res.join(', ')} (${f.x.accepted} accepted).`,
      evidence: { metric: 'unprotected write requests', observed: f.proof.n - f.x.accepted, baseline: null, threshold: 1, window: 0, resources: res, accepted: f.x.accepted },
      count: f.proof.n - f.x.accepted,
    }));
  });

  return {
    onEvent(e: CoapMessage): void {
      if (e.oscore !== undefined) return;
      if (e.kind === 'request') {
        if (e.method === undefined || (methodBit(e.method) & writes) === 0) return;
        let f = memo.get(e.flow, '');
        if (f === null || f.lru < 0) f = memo.set(e.flow, '', findings.observe(serverEndpoint(e.flow)));
        else if (f.lru === 0) f.lru = 1;
        f.proof.add(e);
        let paths = f.x.byMethod.get(e.method);
        if (paths === undefined) f.x.byMethod.set(e.method, (paths = new CappedSet(100)));
        paths.add(e.uriPath ?? '/');
        findings.report(f);
      } else if (e.kind === 'response' && e.requestMethod !== undefined && (methodBit(e.requestMethod) & writes) !== 0 && e.code.charCodeAt(0) === 0x32) {
        const f = findings.get(serverEndpoint(e.flow));
        if (f === undefined) return;
        f.proof.add(e);
        f.x.accepted++;
        findings.report(f);
      }
    },
    tick: (now: number) => findings.tick(now),
    flush: () => findings.flush(),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'medium',
  usesBaseline: false,
  subscribes: ['coap.message'],
  // Writes and the responses to them; it returns at once on anything else.
  coapMessages: (c, t) => (c.kind === 'request' || c.kind === 'response') && c.method !== undefined
    && (methodBit(c.method) & methodMask(t.writeMethods)) !== 0,
  description: 'CoAP write requests (PUT, POST, DELETE, PATCH) without DTLS or OSCORE.',
  recommendation: 'Protect CoAP with DTLS (coaps, port 5684) or OSCORE, and have servers refuse unprotected writes.',
  mitre: 'T0855', // Unauthorized Command Message: unauthenticated writes can be forged by anyone on the path
});
