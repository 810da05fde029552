import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { intern } from '../../src/util/intern';

setFlagsFromString('--allow-natives-syntax');
/* eslint-disable @typescript-eslint/no-implied-eval */
const status = new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number;
const prepare = new Function('f', '%PrepareFunctionForOptimization(f)') as (f: unknown) => void;
const optimizeNext = new Function('f', '%OptimizeFunctionOnNextCall(f)') as (f: unknown) => void;
/* eslint-enable @typescript-eslint/no-implied-eval */
/** V8's OptimizationStatus bit for code made by TurboFan. */
const TURBOFANNED = 1 << 6;
/** A new string, as the decoder makes them from packet bytes (not internalized). */
const fresh = (s: string): string => Buffer.from(s).toString('latin1');

describe('intern', () => {
  it('returns a string equal to its argument, whatever it is', () => {
    const samples = ['meter-1', '', '123', '0', '__proto__', 'constructor', 'a/b/#', 'é/ü', '\uD800', 'x'.repeat(1024), 'x'.repeat(5000)];
    for (const s of samples) expect(intern(fresh(s) === s ? fresh(s) : s)).toBe(s);
  });

  it('hands back internalized strings: a comparison compiled for them stays compiled', () => {
    // `===` optimised on internalized strings only is a pointer comparison guarded by a check
    // that both are internalized; any other string fails the check and deoptimises it.
    const eq = (a: string, b: string): boolean => a === b;
    prepare(eq);
    const m1 = intern(fresh('meter-1'));
    const m2 = intern(fresh('meter-2'));
    eq(m1, m2);
    eq(m1, m1);
    optimizeNext(eq);
    expect(eq(m1, intern(fresh('meter-1')))).toBe(true);
    expect(status(eq) & TURBOFANNED).not.toBe(0);
    expect(eq(intern(fresh('meter-3')), m2)).toBe(false);
    expect(status(eq) & TURBOFANNED).not.toBe(0);
    // Sanity: a string that is not internalized throws the code out.
    expect(eq(fresh('meter-2'), m2)).toBe(true);
    expect(status(eq) & TURBOFANNED).toBe(0);
  });

  it('leaves nothing behind on shared objects (the holder has no prototype)', () => {
    intern(fresh('meter-1'));
    intern(fresh('__proto__'));
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'meter-1')).toBe(false);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});
