import { describe, expect, it } from 'vitest';
import { TOKENS, app, ro } from '../fixtures';
import { MemoryStore } from '../memory-store';

type Json = Record<string, any>;

const EXPECTED: [string, string][] = [
  ['get', '/api/v1/alerts'], ['get', '/api/v1/alerts/{id}'], ['patch', '/api/v1/alerts/{id}'],
  ['get', '/api/v1/alerts/feed'], ['get', '/api/v1/alerts/stream'], ['get', '/api/v1/stats'],
  ['get', '/api/v1/inventory/clients'], ['get', '/api/v1/inventory/topics'], ['get', '/api/v1/inventory/coap-resources'],
  ['get', '/api/v1/inventory/tls'], ['get', '/api/v1/health'], ['get', '/api/v1/openapi.json'], ['get', '/metrics'],
];

/** Every $ref in the document points at a component that exists. */
function refs(x: unknown, out: string[] = []): string[] {
  if (Array.isArray(x)) x.forEach((v) => refs(v, out));
  else if (x && typeof x === 'object') {
    for (const [k, v] of Object.entries(x)) {
      if (k === '$ref') out.push(v as string);
      else refs(v, out);
    }
  }
  return out;
}

describe('GET /api/v1/openapi.json', () => {
  it('documents every route with its parameters, body, responses and security', async () => {
    const a = app(new MemoryStore(), { tokens: TOKENS });
    const res = await a.inject({ url: '/api/v1/openapi.json', headers: ro });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as Json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'iotwatch API', version: '0.1.0' });
    const ops = Object.entries(doc.paths as Json).flatMap(([p, m]) => Object.keys(m).map((k) => [k, p]));
    expect(ops.sort()).toEqual([...EXPECTED].sort());

    const operationIds = new Set<string>();
    for (const [method, path] of EXPECTED) {
      const op = doc.paths[path][method];
      expect(op.summary, `${method} ${path}`).toEqual(expect.any(String));
      expect(operationIds.has(op.operationId)).toBe(false);
      operationIds.add(op.operationId);
      expect(op.responses['200'] ?? op.responses['200'], `${method} ${path} 200`).toBeDefined();
      for (const code of ['400', '401', '429', '500']) {
        if (path === '/api/v1/health' && code !== '429' && code !== '500') continue;
        expect(op.responses[code]?.content['application/json'].schema, `${method} ${path} ${code}`).toEqual({ $ref: '#/components/schemas/ErrorBody' });
      }
      expect(op.security).toEqual(path === '/api/v1/health' ? [] : [{ bearerAuth: [] }]);
      for (const p of op.parameters) {
        expect(p).toMatchObject({ name: expect.any(String), in: expect.stringMatching(/^(query|path|header)$/), schema: expect.any(Object) });
      }
    }

    const list = doc.paths['/api/v1/alerts'].get;
    expect(list.parameters.map((p: Json) => p.name)).toEqual(
      ['from', 'to', 'detector', 'category', 'minSeverity', 'status', 'entity', 'address', 'q', 'sensor', 'sort', 'order', 'limit', 'cursor']);
    expect(list.parameters.find((p: Json) => p.name === 'limit').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000, default: 100 });
    expect(list.responses['200'].content['application/json'].schema.properties.alerts.items).toEqual({ $ref: '#/components/schemas/StoredAlert' });

    const patch = doc.paths['/api/v1/alerts/{id}'].patch;
    expect(patch.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(patch.requestBody.content['application/json'].schema).toMatchObject({ required: ['status'], additionalProperties: false });
    for (const code of ['403', '404', '413', '415']) expect(patch.responses[code]).toBeDefined();

    const stream = doc.paths['/api/v1/alerts/stream'].get;
    expect(Object.keys(stream.responses['200'].content)).toEqual(['text/event-stream']);
    expect(stream.parameters.find((p: Json) => p.in === 'header').name).toBe('last-event-id');
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain']);

    expect(Object.keys(doc.components.schemas).sort()).toEqual(['ErrorBody', 'Health', 'StoredAlert']);
    expect(doc.components.schemas.StoredAlert.$id).toBeUndefined();
    for (const r of refs(doc)) expect(doc.components.schemas[r.replace('#/components/schemas/', '')], r).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.tags.map((t: Json) => t.name)).toEqual(['alerts', 'feed', 'health', 'inventory', 'metrics', 'openapi', 'stats']);
    await a.close();
  });
});
