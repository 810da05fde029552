// Anomaly events of the TLS, DTLS and WebSocket decoders (codes in src/events/anomaly-codes.ts).
import type { AnomalyCode } from '../../events/anomaly-codes';
import type { AnomalyEvent, FlowSide } from '../../events/types';

export type TransportAnomalyCode = Extract<AnomalyCode, `tls.${string}` | `dtls.${string}` | `websocket.${string}`>;

export function anomaly(code: TransportAnomalyCode, side: FlowSide, ts: number, frame: number, detail: string): AnomalyEvent {
  const layer = code.slice(0, code.indexOf('.'));
  return { type: 'anomaly', ts, frame, flow: side, code, layer, detail };
}
