// Contract between the capture readers, the link/IP decoder and the flow layer.
// Objects here are reused from packet to packet on the hot path: a consumer that
// keeps bytes beyond its callback must copy them (Buffer.from / Buffer.copy).

/** One captured packet as read from a file or an interface. */
export interface PacketRecord {
  /** 1-based packet number in the input, across interfaces (tshark's frame.number). */
  frame: number;
  /** Capture time in microseconds since the epoch (nanosecond files are rounded down). */
  tsUs: number;
  /** LINKTYPE_* of the interface the packet came from. */
  linkType: number;
  /** Interface index (pcapng IDB order; 0 for pcap and live capture). */
  iface: number;
  /** Bytes of the packet: buf[off, off + caplen). Valid only during the callback. */
  buf: Buffer;
  off: number;
  caplen: number;
  /** Original length on the wire. */
  wirelen: number;
}

export type PacketHandler = (pkt: PacketRecord) => void;

/** Counters and warnings a reader accumulates. */
export interface CaptureStats {
  format: 'pcap' | 'pcapng' | 'live';
  packets: number;
  bytes: number;
  /** Packets dropped by the kernel/interface (live capture, pcapng ISB). */
  drops: number;
  /** Human-readable warnings, e.g. "truncated record at byte offset 1234". */
  warnings: string[];
  /** Byte offset at which a truncated/damaged record was found, if any. */
  truncatedAt?: number;
}

/** A decoded IPv4/IPv6 packet with its transport header, written into a reused object. */
export interface DecodedPacket {
  ipVersion: 4 | 6;
  /** Buffer holding the IP packet (the record's buffer, or a reassembled one). */
  buf: Buffer;
  /** Offsets of the source and destination address bytes (4 or 16 bytes). */
  srcOff: number;
  dstOff: number;
  /** IP protocol number of the transport (6 TCP, 17 UDP, 58 ICMPv6 ...). */
  proto: number;
  /** Transport header offset and length of transport header + payload. */
  l4Off: number;
  l4Len: number;
  sport: number;
  dport: number;
  /** TCP only. */
  seq: number;
  ack: number;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20). */
  tcpFlags: number;
  window: number;
  /** Transport payload: buf[payloadOff, payloadOff + payloadLen). */
  payloadOff: number;
  payloadLen: number;
}

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  RAW_12: 12,
  RAW_14: 14,
  LOOP: 108,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
  IPV4: 228,
  IPV6: 229,
} as const;
