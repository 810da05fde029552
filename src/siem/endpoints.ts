// Endpoint labels as alerts carry them ("client:port -> server:port", IPv6 in brackets, see
// detectors/lib/endpoints.ts) split back into addresses and ports for SIEM fields.
import { isIP } from 'node:net';

export interface HostPort {
  readonly ip: string;
  readonly port: number;
}

export interface EndpointPair {
  /** The side that opened the flow. */
  readonly client: HostPort;
  readonly server: HostPort;
}

function hostPort(text: string): HostPort | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:\s]+):(\d{1,5})$/.exec(text);
  if (!m || isIP(m[1]) === 0) return null;
  const port = Number(m[2]);
  return port <= 65535 ? { ip: m[1], port } : null;
}

/** null when the label is not in the alert model's form. */
export function parseEndpoint(label: string): EndpointPair | null {
  const parts = label.split(' -> ');
  if (parts.length !== 2) return null;
  const client = hostPort(parts[0]);
  const server = hostPort(parts[1]);
  return client && server ? { client, server } : null;
}
