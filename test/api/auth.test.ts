import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors';
import { createAuthenticator, hashToken, isLoopbackHost, loadTokens, requireWrite } from '../../src/api/auth';
import { RO_TOKEN, RW_TOKEN, TOKENS } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'iotwatch-tokens-'));
function file(content: string): string {
  const p = join(dir, `t${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, content);
  return p;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return `${err.statusCode} ${err.code}`;
    throw err;
  }
  return undefined;
}

describe('hashToken and loadTokens', () => {
  it('hashes with sha256 hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('loads a tokens file and normalises hex case', () => {
    const p = file(JSON.stringify([
      { name: 'siem', sha256: hashToken('x').toUpperCase(), scope: 'read' },
      { name: 'soc', sha256: hashToken('y'), scope: 'read-write' },
    ]));
    expect(loadTokens(p)).toEqual([
      { name: 'siem', sha256: hashToken('x'), scope: 'read' },
      { name: 'soc', sha256: hashToken('y'), scope: 'read-write' },
    ]);
  });

  it('refuses bad files with the entry named', () => {
    expect(() => loadTokens(join(dir, 'missing.json'))).toThrow(/no such tokens file/);
    expect(() => loadTokens(file('{'))).toThrow(/not a JSON tokens file/);
    expect(() => loadTokens(file('{}'))).toThrow(/expected a JSON array/);
    expect(() => loadTokens(file('[{"name":"a","sha256":"00","scope":"read"}]'))).toThrow(/\[0\]: sha256 must be 64 hex/);
    expect(() => loadTokens(file(`[{"name":"a","sha256":"${hashToken('a')}","scope":"admin"}]`))).toThrow(/scope/);
    expect(() => loadTokens(file(`[{"name":"","sha256":"${hashToken('a')}","scope":"read"}]`))).toThrow(/name/);
    expect(() => loadTokens(file(`[{"name":"a","sha256":"${hashToken('a')}","scope":"read"},{"name":"a","sha256":"${hashToken('b')}","scope":"read"}]`))).toThrow(/duplicate/);
    expect(() => loadTokens(file('[null]'))).toThrow(/\[0\]: expected an object/);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    [undefined, true], ['localhost', true], ['127.0.0.1', true], ['127.8.9.10', true], ['::1', true], ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true], ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false], ['::', false], ['10.0.0.1', false], ['192.168.1.2', false], ['::ffff:10.0.0.1', false],
    ['example.com', false], ['fe80::1', false], ['', false],
  ])('%s -> %s', (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });
});

describe('createAuthenticator', () => {
  it('is open on loopback with no token', () => {
    const a = createAuthenticator(undefined, '127.0.0.1');
    expect(a.required).toBe(false);
    expect(a.authenticate(undefined)).toBeNull();
    expect(() => requireWrite(null, a.required)).not.toThrow();
  });

  it('refuses everything beyond loopback when no token is configured', () => {
    const a = createAuthenticator({}, '0.0.0.0');
    expect(a.required).toBe(true);
    expect(code(() => a.authenticate(undefined))).toBe('401 auth_not_configured');
    expect(code(() => a.authenticate(`Bearer ${RW_TOKEN}`))).toBe('401 auth_not_configured');
  });

  it('checks the clear token and hashed tokens with their scopes', () => {
    const a = createAuthenticator({ token: 'env-token-0123456789', ...TOKENS }, '127.0.0.1');
    expect(a.authenticate('Bearer env-token-0123456789')).toEqual({ name: 'api-token', scope: 'read-write' });
    expect(a.authenticate(`Bearer ${RW_TOKEN}`)).toEqual({ name: 'soc-rw', scope: 'read-write' });
    expect(a.authenticate(`bearer ${RO_TOKEN}`)).toEqual({ name: 'grafana', scope: 'read' });
    expect(code(() => a.authenticate(undefined))).toBe('401 unauthorized');
    expect(code(() => a.authenticate('Basic dXNlcjpwYXNz'))).toBe('401 unauthorized');
    expect(code(() => a.authenticate('Bearer '))).toBe('401 unauthorized');
    expect(code(() => a.authenticate(`Bearer ${RW_TOKEN} extra`))).toBe('401 unauthorized');
    expect(code(() => a.authenticate(`Bearer ${'x'.repeat(600)}`))).toBe('401 unauthorized');
    expect(code(() => a.authenticate(`Bearer ${RW_TOKEN}x`))).toBe('401 invalid_token');
    expect(code(() => a.authenticate(`Bearer ${hashToken(RW_TOKEN)}`))).toBe('401 invalid_token'); // the digest is not the token
    expect(code(() => requireWrite({ name: 'grafana', scope: 'read' }, true))).toBe('403 forbidden');
    expect(() => requireWrite({ name: 'soc-rw', scope: 'read-write' }, true)).not.toThrow();
  });

  it('refuses a short clear token at start-up', () => {
    expect(() => createAuthenticator({ token: 'short' }, undefined)).toThrow(/at least 16/);
  });
});
