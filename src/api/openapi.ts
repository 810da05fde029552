// The OpenAPI 3.1 document, generated from the route schemas fastify validates and
// serializes with, so the document cannot drift from what the API does. 3.1 because its
// schema objects are JSON Schema: ours go in as they are, with shared $refs repointed.
import type { CollectedRoute } from './context';

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  tags: { name: string }[];
}

type Json = Record<string, unknown>;

/** Repoints fastify shared-schema refs ("Name#") at components, and drops $id. */
function toOpenApiSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toOpenApiSchema);
  if (!s || typeof s !== 'object') return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s as Json)) {
    if (k === '$id') continue;
    if (k === '$ref' && typeof v === 'string') {
      const m = /^([A-Za-z][\w-]*)#$/.exec(v);
      out.$ref = m ? `#/components/schemas/${m[1]}` : v;
      continue;
    }
    out[k] = toOpenApiSchema(v);
  }
  return out;
}

function parameters(schema: Json | undefined, where: 'query' | 'path' | 'header'): Json[] {
  if (!schema) return [];
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => {
    const { description, ...rest } = p;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: toOpenApiSchema(rest),
    };
  });
}

const STATUS_DESCRIPTION: Record<string, string> = { 200: 'OK' };

function responses(schema: Json | undefined): Json {
  const out: Json = {};
  for (const [code, r] of Object.entries((schema ?? {}) as Record<string, Json>)) {
    const { description, content, ...rest } = r;
    const desc = (description as string | undefined) ?? STATUS_DESCRIPTION[code] ?? 'Response';
    if (content) {
      const c: Json = {};
      for (const [type, v] of Object.entries(content as Record<string, Json>)) c[type] = { schema: toOpenApiSchema(v.schema) };
      out[code] = { description: desc, content: c };
    } else {
      out[code] = { description: desc, content: { 'application/json': { schema: toOpenApiSchema(rest) } } };
    }
  }
  return out;
}

export function buildOpenApi(routes: readonly CollectedRoute[], shared: readonly Json[], version: string): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]\w*)/g, '{$1}');
    const s = (r.schema ?? {}) as Json;
    tags.add(r.tag);
    const op: Json = {
      operationId: `${r.method.toLowerCase()}${path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      tags: [r.tag],
      ...(s.summary ? { summary: s.summary } : {}),
      parameters: [
        ...parameters(s.params as Json | undefined, 'path'),
        ...parameters(s.querystring as Json | undefined, 'query'),
        ...parameters(s.headers as Json | undefined, 'header'),
      ],
      responses: responses(s.response as Json | undefined),
      security: r.auth ? [{ bearerAuth: [] }] : [],
    };
    if (s.body) op.requestBody = { required: true, content: { 'application/json': { schema: toOpenApiSchema(s.body) } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  const schemas: Json = {};
  for (const s of shared) schemas[String(s.$id)] = toOpenApiSchema(s);
  return {
    openapi: '3.1.0',
    info: {
      title: 'iotwatch API',
      version,
      description:
        'Alerts, SIEM feed, statistics and inventory of the iotwatch MQTT/CoAP sensor. Times are microseconds since ' +
        'the epoch. Every route but /api/v1/health needs a bearer token when tokens are configured or the API ' +
        'listens beyond loopback. Errors answer {"error": {"code", "message"}} with a stable code.',
    },
    paths,
    components: {
      schemas,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API token (IOTWATCH_API_TOKEN or the tokens file)' } },
    },
    tags: [...tags].sort().map((name) => ({ name })),
  };
}
