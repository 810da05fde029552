import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors';
import { checkBodyTypes, checkQueryTypes } from '../../src/api/strict-types';

const throws = (fn: () => void): boolean => {
  try {
    fn();
    return false;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return true;
  }
};

describe('strict types before coercion', () => {
  const q = { properties: { limit: { type: 'integer' }, q: { type: 'string' } } };
  it('takes integers only as digits, and each key once', () => {
    expect(throws(() => checkQueryTypes({ limit: '10', q: 'x' }, q))).toBe(false);
    expect(throws(() => checkQueryTypes({ limit: '-3' }, q))).toBe(false); // the schema's minimum refuses it
    for (const limit of ['1e400', '1e3', '0x10', ' 5', '5 ', '', 'Infinity', '1.0', '١٢']) {
      expect(throws(() => checkQueryTypes({ limit }, q)), limit).toBe(true);
    }
    expect(throws(() => checkQueryTypes({ q: ['a', 'b'] }, q))).toBe(true);
  });

  it('takes JSON bodies only with exactly the schema types', () => {
    const s = { type: 'object', properties: { status: { type: 'string' }, note: { type: ['string', 'null'] }, n: { type: 'integer' } } };
    expect(throws(() => checkBodyTypes({ status: 'x', note: null, n: 3 }, s))).toBe(false);
    for (const body of [{ status: ['x'] }, { status: 5 }, { note: 5 }, { n: 1.5 }, { n: '3' }, [], 'x', null]) {
      expect(throws(() => checkBodyTypes(body, s)), JSON.stringify(body)).toBe(true);
    }
  });
});
