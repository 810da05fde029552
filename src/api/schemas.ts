// Shared JSON schemas: what the API returns. Response schemas also serialize (fields not
// named here never leave the process) and feed the OpenAPI document.
import { SEVERITIES } from '../alerts/types';
import { MAX_CURSOR_LENGTH } from './cursor';
import { NO_NUL } from './params';

export const STATUSES = ['open', 'acknowledged', 'closed'] as const;
export const CATEGORIES = ['anomaly', 'posture'] as const;

const nullableString = { type: ['string', 'null'] } as const;

export const storedAlertSchema = {
  $id: 'StoredAlert',
  type: 'object',
  required: [
    'id', 'detector', 'category', 'severity', 'firstTs', 'lastTs', 'entity', 'endpoints', 'communityIds',
    'frames', 'count', 'summary', 'evidence', 'recommendation', 'mitre', 'sensor', 'status', 'statusBy',
    'statusNote', 'statusAt', 'seq',
  ],
  properties: {
    id: { type: 'string', description: 'Deterministic alert id (32 hex digits)' },
    detector: { type: 'string' },
    category: { type: 'string', enum: [...CATEGORIES] },
    severity: { type: 'string', enum: [...SEVERITIES] },
    firstTs: { type: 'integer', description: 'Capture time of the first event, µs since the epoch' },
    lastTs: { type: 'integer', description: 'Capture time of the last event, µs since the epoch' },
    entity: {
      type: 'object',
      required: ['kind', 'value'],
      properties: { kind: { type: 'string' }, value: { type: 'string' } },
    },
    endpoints: { type: 'array', items: { type: 'string' }, description: '"client:port -> server:port", one per flow' },
    communityIds: { type: 'array', items: { type: 'string' } },
    frames: { type: 'array', items: { type: 'integer' }, description: 'Packet numbers that prove the alert' },
    count: { type: 'integer' },
    summary: { type: 'string' },
    evidence: {
      type: 'object',
      description: 'observed, baseline, threshold, window (seconds) and detector-specific fields',
      additionalProperties: true,
    },
    recommendation: { type: 'string' },
    mitre: { ...nullableString, description: 'MITRE ATT&CK for ICS technique id' },
    sensor: { type: 'string' },
    status: { type: 'string', enum: [...STATUSES] },
    statusBy: nullableString,
    statusNote: nullableString,
    statusAt: { type: ['integer', 'null'], description: 'Wall-clock ms of the last status change' },
    seq: { type: 'integer', description: 'Position in insertion order' },
  },
} as const;

export const cursorParam = { type: 'string', maxLength: MAX_CURSOR_LENGTH, description: 'Opaque cursor from a previous page' } as const;
export const limitParam = { type: 'integer', minimum: 1, maximum: 1000, default: 100 } as const;
export const sensorParam = { type: 'string', minLength: 1, maxLength: 128, pattern: NO_NUL } as const;
export const timeParam = {
  type: 'string',
  minLength: 1,
  maxLength: 40,
  description: 'Microseconds since the epoch, or an ISO 8601 time with offset (2024-05-01T12:00:00Z)',
} as const;

export const SHARED_SCHEMAS = [storedAlertSchema] as const;
