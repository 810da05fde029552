// /api/v1/inventory: what the sensor has seen (clients, topics, CoAP resources, TLS endpoints).
import type { FastifyPluginAsync } from 'fastify';
import type { InventoryQuery } from '../../store/types';
import type { PluginOptions } from '../context';
import type { CursorKind } from '../cursor';
import { COMMON_ERRORS, errorResponses, storeCall } from '../errors';
import { cursorParam, limitParam, sensorParam } from '../schemas';

const inventoryQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: limitParam, cursor: cursorParam, sensor: sensorParam },
} as const;

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;

function rowSchema(props: Record<string, unknown>, nullable: string[] = []): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    properties[k] = nullable.includes(k) ? { ...(v as object), type: [(v as { type: string }).type, 'null'] } : v;
  }
  return { type: 'object', required: Object.keys(props), properties };
}

export const clientRowSchema = rowSchema({
  sensor: str, flowId: int, communityId: str, clientId: str, username: str, client: str, server: str,
  protocolVersion: int, tls: bool, firstTs: int, lastTs: int, connackCode: int, publishes: int, subscribes: int, bytes: int,
}, ['username', 'connackCode']);

export const topicRowSchema = rowSchema({
  sensor: str, minute: int, topic: str, publishes: int, retained: int, bytes: int, publishers: int,
});

export const coapRowSchema = rowSchema({
  sensor: str, minute: int, client: str, server: str, method: str, path: str, responseCode: str, requests: int,
  responses: int, unmatched: int, requestBytes: int, responseBytes: int, rttUsP50: num,
}, ['rttUsP50']);

export const tlsRowSchema = rowSchema({
  sensor: str, server: str, sni: str, version: str, cipher: str, clientAuth: bool, subject: str, issuer: str,
  sha256: str, notBefore: int, notAfter: int, selfSigned: bool, firstTs: int, lastTs: int,
  daysToExpiry: { type: ['number', 'null'], description: 'Days until notAfter; negative once expired; null when no certificate was seen (TLS 1.3, DTLS PSK)' },
});

type Lister = (q: InventoryQuery) => Promise<{ rows: unknown[]; nextCursor: string | null }>;

export const inventoryRoutes: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  const { store, cursors } = ctx;
  const lists: [string, CursorKind, string, Record<string, unknown>, Lister][] = [
    ['/inventory/clients', 'clients', 'MQTT sessions: client id, username, endpoints, version, TLS', clientRowSchema, (q) => store.inventoryClients(q)],
    ['/inventory/topics', 'topics', 'Per-minute topic statistics', topicRowSchema, (q) => store.inventoryTopics(q)],
    ['/inventory/coap-resources', 'coap', 'CoAP exchanges aggregated per minute, resource and code', coapRowSchema, (q) => store.inventoryCoapResources(q)],
    ['/inventory/tls', 'tls', 'TLS/DTLS endpoints and certificates, with days to expiry', tlsRowSchema, (q) => store.inventoryTls(q)],
  ];
  for (const [url, kind, summary, row, list] of lists) {
    app.get(url, {
      config: { tag: 'inventory' },
      schema: {
        summary,
        querystring: inventoryQuery,
        response: {
          200: {
            type: 'object',
            required: ['rows', 'nextCursor'],
            properties: { rows: { type: 'array', items: row }, nextCursor: { type: ['string', 'null'] } },
          },
          ...errorResponses(...COMMON_ERRORS),
        },
      },
    }, async (req) => {
      const q = req.query as { limit: number; cursor?: string; sensor?: string };
      const query: InventoryQuery = { limit: q.limit };
      if (q.cursor !== undefined && q.cursor !== '') query.cursor = cursors.decode(kind, q.cursor).store;
      if (q.sensor !== undefined) query.sensor = q.sensor;
      const page = await storeCall(req, () => list(query));
      return { rows: page.rows, nextCursor: page.nextCursor === null ? null : cursors.encode(kind, { store: page.nextCursor }) };
    });
  }
};
