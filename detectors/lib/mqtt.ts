// MQTT facts several detectors need: who the client is, topic subtrees, failed logins.
import type { MqttEvent } from '../../src/events/types';
import { clientAddr } from './endpoints';

/** The client id, or the client's address for a zero-length client id [MQTT-3.1.3-6]. */
export function clientKey(e: Pick<MqttEvent, 'clientId' | 'flow'>): string {
  return e.clientId !== '' ? e.clientId : clientAddr(e.flow);
}

/**
 * Broker ACLs and credentials are per username; without one, the client id is the principal.
 * Keying on it keeps one set of credentials used over many connections (and client ids) together.
 */
export function principal(e: Pick<MqttEvent, 'clientId' | 'username' | 'flow'>): string {
  return e.username !== null && e.username !== '' ? e.username : clientKey(e);
}

export function principalKind(e: Pick<MqttEvent, 'username'>): 'username' | 'client_id' {
  return e.username !== null && e.username !== '' ? 'username' : 'client_id';
}

/**
 * The first `depth` levels of a topic or filter; a wildcard level ends it, excluded:
 * topicSubtree('plant/meters/m1/kw', 2) = 'plant/meters', topicSubtree('plant/+/kw', 2) = 'plant',
 * topicSubtree('#', 2) = '' (the root).
 */
export function topicSubtree(topic: string, depth: number): string {
  let end = 0;
  for (let level = 0; level < depth; level++) {
    const next = topic.indexOf('/', end);
    const stop = next === -1 ? topic.length : next;
    const seg = topic.slice(end, stop);
    if (seg === '#' || seg === '+') return end === 0 ? '' : topic.slice(0, end - 1);
    if (next === -1) return topic;
    end = next + 1;
  }
  return topic.slice(0, end - 1);
}

/** The subtree and every shorter one above it, root ('') last: 'a/b' -> ['a/b', 'a', '']. */
export function subtreeAncestors(subtree: string): string[] {
  const out = [subtree];
  for (let i = subtree.length - 1; i >= 0; i--) if (subtree.charCodeAt(i) === 0x2f) out.push(subtree.slice(0, i));
  if (subtree !== '') out.push('');
  return out;
}

/**
 * CONNACK codes that refuse credentials: 3.1/3.1.1 4 (bad user name or password) and 5 (not
 * authorized) [MQTT-3.2.2.3]; v5 0x86, 0x87, 0x8C (section 3.2.2.2). Version 0 (unknown) accepts both.
 */
export function isAuthFailure(version: number, code: number): boolean {
  const v5 = code === 0x86 || code === 0x87 || code === 0x8c;
  const v311 = code === 4 || code === 5;
  return version === 5 ? v5 : version === 0 ? v5 || v311 : v311;
}

/** A filter without a $share/{group}/ prefix (MQTT 5 shared subscriptions, section 4.8.2). */
export function unshared(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  const i = filter.indexOf('/', 7);
  return i === -1 ? filter : filter.slice(i + 1);
}

export function hasWildcard(filter: string): boolean {
  return filter.includes('#') || filter.includes('+');
}

/** Literal levels before the first wildcard (all levels for an exact topic): lower covers more. */
export function literalDepth(filter: string): number {
  const levels = filter.split('/');
  const i = levels.findIndex((l) => l === '#' || l === '+');
  return i === -1 ? levels.length : i;
}

/**
 * Whether MQTT was decoded from inside TLS. The decoder emits only cleartext MQTT today; a future
 * event field `tls: true` (MQTT read through a key log or a TLS-terminating tap) is honoured here.
 */
export function overTls(e: object): boolean {
  return (e as { tls?: unknown }).tls === true;
}
