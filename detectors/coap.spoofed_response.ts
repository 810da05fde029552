// coap.spoofed_response: responses that no request explains, and RST storms, per receiving address,
// far above its baseline. An off-path attacker injecting answers (RFC 7252 section 11.4) or
// resetting exchanges shows up as responses the decoder could not pair with a request. An unpaired
// response counts only while the address has received more responses than it sent requests in
// the window: a client reusing one token for requests in flight (legal for NON, but ambiguous to
// pair) gets one answer per request, not more.
import type { CoapMessage } from '../src/events/types';
import { SECOND, defineDetector, type DetectorContext, type Schema } from './lib/detector';
import { dstAddr, srcAddr } from './lib/endpoints';
import { CappedSet } from './lib/tables';
import { EntityWindows, rateDefaults, rateSchema, type WindowSlot } from './lib/windows';

export const id = 'coap.spoofed_response';
export const category = 'anomaly';

export const tunables = {
  ...rateDefaults,
  minUnmatched: 10,
  coldUnmatched: 50,
  minResets: 20,
  coldResets: 100,
  grace: 10,
  countNotifications: false,
};

export const schema: Schema<typeof tunables> = {
  ...rateSchema,
  minUnmatched: { type: 'integer', min: 1, max: 1e9, description: 'unpaired responses to one address per window (absolute floor)' },
  coldUnmatched: { type: 'integer', min: 1, max: 1e9, description: 'unpaired responses per window for an address without a mature baseline' },
  minResets: { type: 'integer', min: 1, max: 1e9, description: 'RST messages to one address per window (absolute floor)' },
  coldResets: { type: 'integer', min: 1, max: 1e9, description: 'RSTs per window for an address without a mature baseline' },
  grace: { type: 'integer', min: 0, max: 86_400, description: 'seconds after the capture starts in which unpaired responses are expected (requests before the capture)' },
  countNotifications: { type: 'boolean', description: 'count unpaired Observe notifications (a decoder may not pair them with the registration)' },
};

/** One address's window: requests it sent, responses it got, who sent the suspicious ones. */
class Exchanges {
  requests = 0;
  responses = 0;
  readonly senders = new CappedSet(1024);
}

export function create(ctx: DetectorContext, t: typeof tunables) {
  const raise = (s: WindowSlot<Exchanges>, ws: number): void => {
    const m = w.firstFired(s);
    ctx.alert({
      key: s.key,
      windowStart: ws,
      entity: { kind: 'address', value: s.key },
      summary: `${s.key} received ${s.count(0)} CoAP responses that answer no request it sent and ${s.count(1)} RSTs in ${t.window} s, `
        + `from ${s.x.senders.size} source${s.x.senders.size === 1 ? '' : 's'}.`,
      evidence: w.evidence(s, m, { unmatched: s.count(0), resets: s.count(1), requests: s.x.requests, responses: s.x.responses, senders: s.x.senders.values(10) }),
      proof: s.proof,
      count: s.count(0) + s.count(1),
    });
  };
  const w: EntityWindows<Exchanges> = new EntityWindows<Exchanges>(ctx, 'receivers', { ...t, baseline: t }, [
    { name: 'unmatched_responses', minCount: t.minUnmatched, coldThreshold: t.coldUnmatched },
    { name: 'resets', minCount: t.minResets, coldThreshold: t.coldResets },
  ], {
    make: () => new Exchanges(),
    onClose(s, ws) {
      if (s.fired !== 0) raise(s, ws);
      s.x = new Exchanges();
    },
  });

  // A request counts for its source, anything else for its receiver: on one flow side, two
  // entities when the peers are client and server to each other.
  const bySource = w.bySide(srcAddr);
  const byDestination = w.bySide(dstAddr);

  return {
    onEvent(e: CoapMessage): void {
      if (e.kind === 'request') {
        w.touchSide(e, bySource).x.requests++;
        return;
      }
      // Every message an address receives makes its window active, so a clean window counts as 0.
      const s = w.touchSide(e, byDestination);
      let m: number;
      if (e.msgType === 'RST') m = 1;
      else if (e.kind === 'response') {
        if (++s.x.responses <= s.x.requests || e.matched !== false || (!t.countNotifications && e.observe !== undefined)) return;
        if (e.ts < ctx.startTs + t.grace * SECOND) return;
        m = 0;
      } else return;
      s.proof.add(e);
      s.x.senders.add(e.flow.src);
      const before = s.fired;
      w.add(s, m, 1);
      if (before === 0 && s.fired !== 0) raise(s, w.windowStart);
    },
    tick: (now: number) => w.tick(now),
    flush: () => w.flush(),
    exportBaseline: () => w.exportJSON(),
    importBaseline: (d: unknown) => w.importJSON(d),
  };
}

export const detector = defineDetector({
  id, category, tunables, schema, create,
  severity: 'high',
  usesBaseline: true,
  subscribes: ['coap.message'],
  description: 'CoAP responses that no request explains, or RST storms, to one address far above its baseline.',
  recommendation: 'Protect CoAP exchanges with DTLS or OSCORE so injected responses are rejected, use long random tokens, and find the injecting host.',
  mitre: 'T0856', // Spoof Reporting Message: forged answers to a device's or an operator's requests
});
