// Assertions shared by the API tests.
import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { API_ERROR_CODES } from '../../src/api/errors';

/** An error answer: the status, the stable code, the one body shape, and nothing leaked. */
export function expectError(res: LightMyRequestResponse, status: number, code?: string): void {
  expect(res.statusCode, `${res.body.slice(0, 300)}`).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(API_ERROR_CODES).toContain(body.error.code);
  if (code) expect(body.error.code).toBe(code);
  expectNoLeak(res.body);
}

/** No stack trace, file path or backend text in a body. */
export function expectNoLeak(body: string): void {
  expect(body).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|node_modules|stack|Error:/);
}
