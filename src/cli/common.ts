// Options shared by the commands that read captures, and the error type they report.
import { hostname } from 'node:os';
import type { PipelineOptions } from '../pipeline';
import { loadSecret } from '../util/secret';

/** An error the user can act on: printed as one line, exit code 2 (usage) or 1. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export const CAPTURE_OPTIONS = {
  'sensor-id': { type: 'string' },
  'secret-file': { type: 'string' },
  'max-mqtt-message': { type: 'string' },
  'mqtt-port': { type: 'string', multiple: true },
  'coap-port': { type: 'string', multiple: true },
  'no-flow-events': { type: 'boolean' },
} as const;

export interface CaptureOptionValues {
  'sensor-id'?: string;
  'secret-file'?: string;
  'max-mqtt-message'?: string;
  'mqtt-port'?: string[];
  'coap-port'?: string[];
  'no-flow-events'?: boolean;
}

export function sensorId(v: CaptureOptionValues, env: NodeJS.ProcessEnv = process.env): string {
  return v['sensor-id'] ?? env.IOTWATCH_SENSOR_ID ?? hostname();
}

export function parsePort(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CliError(`${what}: not a port number: ${JSON.stringify(s)}`, 2);
  return n;
}

export function parseSize(s: string, what: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(s);
  if (!m) throw new CliError(`${what}: expected a byte count like 65536, 64k or 1m: ${JSON.stringify(s)}`, 2);
  const mult = m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024;
  const n = Number(m[1]) * mult;
  if (n < 16 || n > 268_435_455) throw new CliError(`${what}: must be between 16 and 268435455 bytes`, 2);
  return n;
}

/** Pipeline options from the shared command-line options (emit filled in by the caller). */
export function pipelineOptions(v: CaptureOptionValues): Omit<PipelineOptions, 'emit'> {
  const extraMqtt = (v['mqtt-port'] ?? []).map((p) => parsePort(p, '--mqtt-port'));
  const extraCoap = (v['coap-port'] ?? []).map((p) => parsePort(p, '--coap-port'));
  return {
    sensorId: sensorId(v),
    secret: loadSecret(v['secret-file']),
    emitFlowEvents: !v['no-flow-events'],
    maxMqttMessage: v['max-mqtt-message'] ? parseSize(v['max-mqtt-message'], '--max-mqtt-message') : undefined,
    mqttPorts: [1883, ...extraMqtt],
    coapStrictPorts: extraCoap,
  };
}
