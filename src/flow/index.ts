// Public surface of the flow layer.
export { FlowTable, SERVER_PORTS } from './flow-table';
export type { FlowTableOptions, FlowTableStats, FlowEndReason } from './flow-table';
export { TcpStream, ReassemblyBudget } from './tcp-reassembly';
export type { StreamSink } from './tcp-reassembly';
export { communityIdV1 } from './community-id';
export { ipv4ToText, ipv6ToText, ipToText, parseIp } from './address';
export type { Dir, FlowInfo, TcpAppHandler, UdpAppHandler, AppClassifier } from './types';
