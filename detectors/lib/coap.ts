// CoAP facts several detectors need: request methods as bits.
//
// The decoder names a request's method with one of the RFC 7252 / 8132 names (an unknown code
// has none), so a set of methods is a bit mask and a method's membership one switch and an AND:
// a Set lookup hashes the name for every message.
import { COAP_METHOD_NAMES } from '../../src/protocols/coap/parser';

/** The method names the decoder gives, in bit order (the decoder's own table). */
export const COAP_METHODS: readonly string[] = COAP_METHOD_NAMES;

/**
 * The method's bit (its position in COAP_METHODS), 0 for a name the decoder never gives. The
 * switch spells the names out so that V8 compares them as constants; a test holds it to
 * COAP_METHODS.
 */
export function methodBit(m: string): number {
  switch (m) {
    case 'GET': return 1;
    case 'POST': return 2;
    case 'PUT': return 4;
    case 'DELETE': return 8;
    case 'FETCH': return 16;
    case 'PATCH': return 32;
    case 'iPATCH': return 64;
    default: return 0;
  }
}

/** The mask of a list of method names (names the decoder never gives match no message). */
export function methodMask(methods: readonly string[]): number {
  let mask = 0;
  for (const m of methods) mask |= methodBit(m);
  return mask;
}

/** The names of the methods in a mask, in COAP_METHODS order. */
export function methodsOf(mask: number): string[] {
  return COAP_METHODS.filter((_, i) => (mask & (1 << i)) !== 0);
}

/**
 * What the engine routes a coap.message on (DetectorModule.coapMessages): its kind, and the method
 * of the request it is or answers (a response's request method, when the decoder paired it).
 */
export interface CoapClass {
  readonly kind: 'request' | 'response' | 'empty' | 'signal' | 'reserved';
  readonly method: string | undefined;
}

const COAP_KINDS: readonly CoapClass['kind'][] = ['request', 'response', 'empty', 'signal', 'reserved'];
const METHOD_SLOTS = COAP_METHODS.length + 1;

/** Class numbers run from 1 (0 is left to events that are not CoAP messages) to COAP_CLASSES - 1. */
export const COAP_CLASSES = 1 + COAP_KINDS.length * METHOD_SLOTS;

/** The class number of a message's kind and method (see CoapClass). */
export function coapClass(kind: string, method: string | undefined): number {
  let k: number;
  switch (kind) {
    case 'request': k = 0; break;
    case 'response': k = 1; break;
    case 'empty': k = 2; break;
    case 'signal': k = 3; break;
    default: k = 4;
  }
  // The method's position in COAP_METHODS plus one (0: none, or a name the decoder never gives).
  const m = method === undefined ? 0 : 32 - Math.clz32(methodBit(method));
  return 1 + k * METHOD_SLOTS + m;
}

/** Every class with its number, for building routes. */
export function coapClasses(): { readonly n: number; readonly c: CoapClass }[] {
  const out: { n: number; c: CoapClass }[] = [];
  for (const kind of COAP_KINDS) {
    for (const method of [undefined, ...COAP_METHODS]) out.push({ n: coapClass(kind, method), c: { kind, method } });
  }
  return out;
}
