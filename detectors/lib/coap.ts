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
