// SIEM output: CEF over RFC 5424 syslog (UDP, TCP, TLS) and Elastic Common Schema JSON lines.
export { CEF_SEVERITY, alertToCef, escapeCefHeader, escapeCefValue, type CefOptions } from './cef';
export { ECS_VERSION, alertToEcs, alertToEcsLine, type EcsDocument, type EcsOptions } from './ecs';
export { parseEndpoint, type EndpointPair, type HostPort } from './endpoints';
export { createEcsSink, createSyslogSink, type AlertForwarder, type EcsSinkOptions, type SinkStats, type SyslogSinkOptions } from './sink';
export { DEFAULT_FACILITY, SYSLOG_SEVERITY, formatSyslog, octetCountingFrame, syslogTimestamp, truncateUtf8, type SyslogHeader } from './syslog';
export { createTransport, parseTarget, type Target, type Transport, type TransportOptions, type TransportStats } from './transport';
