// Live capture through the optional npm package `cap` (libpcap binding). It is loaded at
// call time so that everything else works on machines without libpcap-dev.
//
// What cap 0.2.1 gives (node_modules/cap/src/binding.cc): open(device, filter, bufSize,
// buffer) returns the link type as a string; each packet is copied into our one buffer and
// announced as ('packet', nbytes, truncated). It does not pass on the pcap header timestamp
// nor the original length, and has no pcap_stats binding, so kernel drops are unknown.
import { performance } from 'node:perf_hooks';
import { createCaptureStats, createPacketRecord } from './chunk-parser';
import type { CaptureStats, PacketHandler } from './types';

export const CAP_MISSING_MESSAGE = "live capture needs the optional package 'cap' (npm install cap; needs libpcap-dev)";

export class LiveCaptureError extends Error {
  override readonly name = 'LiveCaptureError';
}

export interface LiveCaptureOptions {
  /** Interface name as libpcap knows it ('lo', 'eth0', 'any'). */
  iface: string;
  /** BPF filter expression (pcap-filter(7)); empty captures everything. */
  bpf?: string;
  /** Bytes kept per packet (default 65535, cap's own libpcap snaplen). */
  snaplen?: number;
  /** Kernel capture buffer in bytes (default 16 MiB). */
  bufferSize?: number;
  /** Receives an exception thrown by onPacket (capture is stopped first); default rethrows. */
  onError?: (err: unknown) => void;
}

export interface LiveCaptureStats extends CaptureStats {
  /** Packets longer than snaplen, cut to it. */
  truncated: number;
  /** False when the binding cannot report kernel drops (cap 0.2.1): drops is then 0. */
  dropsKnown: boolean;
}

export interface LiveCapture {
  /** LINKTYPE_* of the interface. */
  readonly linkType: number;
  /** The name cap reported ('ETHERNET', 'LINKTYPE_LINUX_SLL' ...). */
  readonly linkName: string;
  stop(): void;
  stats(): LiveCaptureStats;
}

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  removeAllListeners(event?: string): unknown;
  stats?: () => Record<string, number>;
}

interface CapModule {
  Cap: new () => CapHandle;
}

// cap 0.2.1 leaves a handle whose open() failed half set up: pcap_create succeeded, so its
// pcap_t is kept, but the libuv poll handle was never initialised. Its destructor (run when
// the garbage collector frees the object) and close() then stop that uninitialised poll
// handle, and the process dies with SIGSEGV or a libuv assertion at some later, random
// moment. Such handles are therefore kept reachable for the life of the process and never
// closed: one small pcap_t per failed open, which a sensor only makes at start-up.
const failedHandles: CapHandle[] = [];

function loadCap(): CapModule {
  try {
    return require('cap') as CapModule;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    throw new LiveCaptureError(missing ? CAP_MISSING_MESSAGE : `${CAP_MISSING_MESSAGE}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** LINKTYPE_* for the link type string cap's open() returns. */
export function capLinkType(name: string): number {
  switch (name) {
    case 'NULL':
      return 0;
    case 'ETHERNET':
      return 1;
    case 'IEEE802_11_RADIO':
      return 127;
    case 'LINKTYPE_LINUX_SLL':
      return 113;
    case 'RAW':
      return 101; // DLT_RAW is 12 or 14 depending on the OS; LINKTYPE_RAW is 101
    default: {
      // "Unknown linktype N" with N the DLT, equal to the LINKTYPE for all we decode.
      const m = /(\d+)$/.exec(name);
      return m === null ? -1 : Number(m[1]);
    }
  }
}

/**
 * Starts capturing on an interface; onPacket gets one reused PacketRecord per packet
 * (buf valid during the call only). Throws LiveCaptureError when cap is not installed or
 * the interface cannot be opened (permissions, bad filter).
 */
export function startLiveCapture(opts: LiveCaptureOptions, onPacket: PacketHandler): LiveCapture {
  const { Cap } = loadCap();
  const cap = new Cap();
  const snaplen = opts.snaplen ?? 65535;
  const buffer = Buffer.alloc(snaplen);
  let linkName: string;
  try {
    linkName = cap.open(opts.iface, opts.bpf ?? '', opts.bufferSize ?? 16 * 1024 * 1024, buffer);
  } catch (err) {
    failedHandles.push(cap);
    throw new LiveCaptureError(`iotwatch: live capture on ${opts.iface}: ${(err as Error).message}`, { cause: err });
  }
  const linkType = capLinkType(linkName);
  const stats = createCaptureStats('live') as LiveCaptureStats;
  stats.truncated = 0;
  stats.dropsKnown = false;
  const rec = createPacketRecord();
  rec.linkType = linkType;
  rec.iface = 0;
  rec.buf = buffer;
  rec.off = 0;
  // The one place the wall clock is used: cap does not pass on libpcap's timestamps, so
  // packets are stamped at receipt. A monotonic clock anchored once to the wall clock keeps
  // capture time from going backwards when the system clock is stepped.
  const wallStartUs = Date.now() * 1000;
  const perfStart = performance.now();
  let lastUs = 0;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    cap.close();
    cap.removeAllListeners('packet');
  };
  cap.on('packet', (nbytes, truncated) => {
    let ts = Math.floor(wallStartUs + (performance.now() - perfStart) * 1000);
    if (ts < lastUs) ts = lastUs;
    lastUs = ts;
    rec.frame++;
    rec.tsUs = ts;
    rec.caplen = nbytes;
    // cap does not report the length on the wire; a cut packet is marked one byte longer.
    rec.wirelen = truncated ? nbytes + 1 : nbytes;
    if (truncated) stats.truncated++;
    stats.packets++;
    stats.bytes += nbytes;
    try {
      onPacket(rec);
    } catch (err) {
      stop();
      if (opts.onError === undefined) throw err;
      opts.onError(err);
    }
  });
  return {
    linkType,
    linkName,
    stop,
    stats(): LiveCaptureStats {
      if (typeof cap.stats === 'function' && !stopped) {
        // Not in cap 0.2.1; used if a later binding exposes pcap_stats().
        const s = cap.stats();
        const drops = (s.ps_drop ?? s.drop ?? 0) + (s.ps_ifdrop ?? s.ifdrop ?? 0);
        stats.drops = drops;
        stats.dropsKnown = true;
      }
      return { ...stats, warnings: [...stats.warnings] };
    },
  };
}
