// Test-only builders for RFC 6455 frames and the opening handshake, and a recording inner handler.
import type { Dir, FlowInfo, TcpAppHandler } from '../../../src/flow/types';
import { acceptKey } from '../../../src/protocols/websocket';

export interface FrameSpec {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  rsv?: number;
  /** Masking key (client frames); null or absent: unmasked. */
  mask?: Buffer | null;
  /** Force the 16- or 64-bit length form. */
  lengthForm?: 7 | 16 | 64;
}

export function frame(s: FrameSpec): Buffer {
  const n = s.payload.length;
  const form = s.lengthForm ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
  const head: number[] = [((s.fin ?? true) ? 0x80 : 0) | ((s.rsv ?? 0) << 4) | s.opcode];
  const m = s.mask ? 0x80 : 0;
  if (form === 7) head.push(m | n);
  else if (form === 16) head.push(m | 126, n >> 8, n & 0xff);
  else {
    head.push(m | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    head.push(...b);
  }
  let payload = s.payload;
  if (s.mask) {
    head.push(...s.mask);
    payload = Buffer.from(s.payload.map((x, i) => x ^ s.mask![i & 3]));
  }
  return Buffer.concat([Buffer.from(head), payload]);
}

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export function upgradeRequest(protocols = 'mqtt', extra = ''): Buffer {
  return Buffer.from(
    `GET /mqtt HTTP/1.1\r\nHost: broker.local:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocols}\r\n${extra}\r\n`,
  );
}

export function upgradeResponse(protocol: string | null = 'mqtt', accept = acceptKey(KEY), extra = ''): Buffer {
  return Buffer.from(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Accept: ${accept}\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ''}${extra}\r\n`,
  );
}

export interface Recorder extends TcpAppHandler {
  data: [Buffer[], Buffer[]];
  gaps: Array<[Dir, number]>;
  ended: boolean;
  stream(dir: Dir): Buffer;
}

/** An inner handler that keeps what it is given. */
export function recorder(): { make: (flow: FlowInfo) => TcpAppHandler; handlers: Recorder[] } {
  const handlers: Recorder[] = [];
  return {
    handlers,
    make: () => {
      const r: Recorder = {
        app: 'record',
        data: [[], []],
        gaps: [],
        ended: false,
        onData(dir, buf, off, len) {
          r.data[dir].push(Buffer.from(buf.subarray(off, off + len)));
        },
        onGap(dir, missing) {
          r.gaps.push([dir, missing]);
        },
        onEnd() {
          r.ended = true;
        },
        stream: (dir) => Buffer.concat(r.data[dir]),
      };
      handlers.push(r);
      return r;
    },
  };
}
