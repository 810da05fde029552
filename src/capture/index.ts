export type { CaptureStats, DecodedPacket, PacketHandler, PacketRecord } from './types';
export { LINKTYPE } from './types';
export { createCaptureStats, createPacketRecord } from './chunk-parser';
export {
  CaptureFormatError,
  captureKind,
  describeForeignFormat,
  foreignFormatError,
  type CaptureKind,
} from './format';
export { PcapParser, type PcapHeader } from './pcap';
export { PcapngParser, PCAPNG_MAX_BLOCK, type PcapngInterface } from './pcapng';
export {
  CaptureParser,
  readCapture,
  readCaptureStream,
  type CaptureParserOptions,
  type ReadCaptureOptions,
} from './reader';
export { PacketDecoder, createDecodedPacket, type DecodeStats, type PacketDecoderOptions } from './link';
export {
  IpDefragmenter,
  DEFRAG_DEFAULTS,
  type AnomalyHandler,
  type DefragOptions,
  type DefragStats,
} from './ip-defrag';
export {
  startLiveCapture,
  capLinkType,
  CAP_MISSING_MESSAGE,
  LiveCaptureError,
  type LiveCapture,
  type LiveCaptureOptions,
  type LiveCaptureStats,
} from './live';
