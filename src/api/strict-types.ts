// Type checks that run before ajv's coercion. Fastify's ajv coerces so that "?limit=5" can be
// an integer, but coercion also turns "1e400" into Infinity (which then passes `maximum`),
// "0x10" into 16 and a body's ["closed"] into "closed". Query integers must be plain digits,
// repeated query keys are refused, and JSON bodies must carry exactly the types the schema names.
import { ApiError } from './errors';

type Schema = { type?: string | readonly string[]; properties?: Record<string, Schema>; items?: Schema };

const DIGITS = /^-?\d{1,20}$/;

function typesOf(s: Schema): readonly string[] {
  return s.type === undefined ? [] : typeof s.type === 'string' ? [s.type] : s.type;
}

/** Query string values are strings; integers must be written as digits; one value per key. */
export function checkQueryTypes(query: unknown, schema: Schema | undefined): void {
  if (!schema?.properties || !query || typeof query !== 'object') return;
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    const prop = schema.properties[name];
    if (!prop) continue; // ajv refuses unknown parameters
    const types = typesOf(prop);
    if (Array.isArray(value) && !types.includes('array')) {
      throw new ApiError(400, 'bad_request', `querystring/${name} must be given once`);
    }
    if ((types.includes('integer') || types.includes('number')) && typeof value === 'string' && !DIGITS.test(value)) {
      throw new ApiError(400, 'bad_request', `querystring/${name} must be an integer written in digits`);
    }
  }
}

function jsonType(v: unknown): string[] {
  if (v === null) return ['null'];
  if (Array.isArray(v)) return ['array'];
  if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number'];
  return [typeof v];
}

/** A JSON body must match the schema's types exactly (no coercion), at every depth. */
export function checkBodyTypes(value: unknown, schema: Schema | undefined, path = 'body'): void {
  if (!schema) return;
  const types = typesOf(schema);
  if (types.length > 0 && !jsonType(value).some((t) => types.includes(t))) {
    throw new ApiError(400, 'bad_request', `${path} must be ${types.join(' or ')}`);
  }
  if (schema.properties && value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (schema.properties[k]) checkBodyTypes(v, schema.properties[k], `${path}/${k}`);
    }
  }
  if (schema.items && Array.isArray(value)) value.forEach((v, i) => checkBodyTypes(v, schema.items, `${path}/${i}`));
}
