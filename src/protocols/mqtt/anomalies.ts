// MQTT anomalies: the subset of the closed code set this decoder raises, and a per-message
// collector. Details are short, fixed-vocabulary strings: never packet bytes, never passwords.
import { ANOMALY_CODES, type AnomalyCode } from '../../events/anomaly-codes';
import type { AnomalyEvent, FlowSide } from '../../events/types';

export type MqttAnomalyCode = Extract<AnomalyCode, `mqtt.${string}`>;

/** Every mqtt.* code in the closed set, in declaration order. */
export const MQTT_ANOMALY_CODES: readonly MqttAnomalyCode[] = Object.keys(ANOMALY_CODES).filter(
  (c): c is MqttAnomalyCode => c.startsWith('mqtt.'),
);

/**
 * Problems found while decoding one control packet. At most one entry per code per packet, so a
 * packet with a thousand bad properties yields one anomaly, not a thousand.
 */
export class Issues {
  readonly codes: MqttAnomalyCode[] = [];
  readonly details: string[] = [];
  /** codes.length, kept here so that clearing an empty collector reads this object only. */
  private n = 0;

  get length(): number {
    return this.n;
  }

  add(code: MqttAnomalyCode, detail: string): void {
    if (this.codes.indexOf(code) >= 0) return;
    this.codes.push(code);
    this.details.push(detail);
    this.n++;
  }

  has(code: MqttAnomalyCode): boolean {
    return this.codes.indexOf(code) >= 0;
  }

  clear(): void {
    if (this.n !== 0) {
      this.codes.length = 0;
      this.details.length = 0;
      this.n = 0;
    }
  }
}

export function mqttAnomaly(
  ts: number,
  frame: number,
  flow: FlowSide,
  code: MqttAnomalyCode,
  detail: string,
  clientId: string | undefined,
  packetType = -1,
  skippedLength = -1,
): AnomalyEvent {
  const e: { -readonly [K in keyof AnomalyEvent]: AnomalyEvent[K] } = { type: 'anomaly', ts, frame, flow, code, layer: 'mqtt', detail };
  if (clientId !== undefined) e.clientId = clientId;
  if (packetType >= 0) e.packetType = packetType;
  if (skippedLength >= 0) e.skippedLength = skippedLength;
  return e;
}

/** Quote a peer-supplied string for a detail message: bounded, and JSON-escaped. */
export function quoted(s: string, max = 64): string {
  return JSON.stringify(s.length > max ? s.slice(0, max) + '...' : s);
}
