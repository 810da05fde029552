// TLS/DTLS versions as the detectors compare them. The events are src/events/tls-types.ts.
import type { TlsCertificate } from '../../src/events/tls-types';
import { clientAddr, serverEndpoint } from './endpoints';

/** Ordinal of a version: SSL 2.0 = 0, SSL 3.0 = 1, TLS 1.0 = 2, 1.1 = 3, 1.2 = 4, 1.3 = 5 (DTLS 1.0 = 3, 1.2 = 4, 1.3 = 5); -1 unknown. */
export function versionRank(v: string | number): number {
  if (typeof v === 'number') {
    switch (v) {
      case 0x0002: return 0;
      case 0x0300: return 1;
      case 0x0301: return 2;
      case 0x0302: return 3;
      case 0x0303: return 4;
      case 0x0304: return 5;
      case 0xfeff: return 3;
      case 0xfefd: return 4;
      case 0xfefc: return 5;
      default: return -1;
    }
  }
  const m = /^(SSL|TLS|DTLS)\s*v?(\d)\.(\d)$/i.exec(v.trim());
  if (m === null) return -1;
  const [, proto, maj, min] = m;
  const p = proto.toUpperCase();
  if (p === 'SSL') return maj === '2' ? 0 : maj === '3' ? 1 : -1;
  if (p === 'TLS' && maj === '1') return ({ '0': 2, '1': 3, '2': 4, '3': 5 } as Record<string, number>)[min] ?? -1;
  if (p === 'DTLS' && maj === '1') return ({ '0': 3, '2': 4, '3': 5 } as Record<string, number>)[min] ?? -1;
  return -1;
}

export function versionLabel(v: number): string {
  const names: Record<number, string> = {
    0x0002: 'SSL 2.0', 0x0300: 'SSL 3.0', 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2', 0x0304: 'TLS 1.3',
    0xfeff: 'DTLS 1.0', 0xfefd: 'DTLS 1.2', 0xfefc: 'DTLS 1.3',
  };
  return names[v] ?? `0x${v.toString(16).padStart(4, '0')}`;
}

export const DAY_US = 86_400e6;

/** "server 10.0.0.1:8883" or "client 10.0.0.5": who sent a certificate. */
export function presenter(c: TlsCertificate): string {
  return c.sender === 'client' ? `client ${clientAddr(c.flow)}` : `server ${serverEndpoint(c.flow)}`;
}
