import { describe, expect, it } from 'vitest';
import { COAP_METHODS, methodBit, methodMask, methodsOf } from '../../../detectors/lib/coap';

describe('CoAP method bits', () => {
  it('gives each method the decoder names its own bit, in COAP_METHODS order', () => {
    expect(COAP_METHODS.map(methodBit)).toEqual([1, 2, 4, 8, 16, 32, 64]);
  });

  it('gives 0 to any other name, case and all', () => {
    for (const m of ['', 'get', 'Post', 'IPATCH', 'OPTIONS', 'GET ', '0.01']) expect(methodBit(m)).toBe(0);
  });

  it('masks a list and names a mask back, ignoring names the decoder never gives', () => {
    const mask = methodMask(['POST', 'PUT', 'DELETE', 'PATCH', 'iPATCH', 'bogus']);
    expect(mask).toBe(2 | 4 | 8 | 32 | 64);
    expect(methodsOf(mask)).toEqual(['POST', 'PUT', 'DELETE', 'PATCH', 'iPATCH']);
    expect(methodMask([])).toBe(0);
    expect(methodsOf(methodMask(COAP_METHODS))).toEqual([...COAP_METHODS]);
  });
});
