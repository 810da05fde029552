// Content checks for the flow classifier: is this TCP payload the start of an MQTT client
// stream (a CONNECT), or, picked up midstream, a run of MQTT control packets?
import {
  BAD_LENGTH, CONNECT, NEED_MORE, PUBLISH, isStrictHeaderByte, plausibleRemaining, readFixedHeader,
} from './parser';

/**
 * true: a CONNECT fixed header, protocol name 'MQTT' or 'MQIsdp' and level 3, 4 or 5 (also with
 * the 0x80 bridge bit mosquitto bridges set) [MQTT-3.1.2-1], [MQTT-3.1.2-2]; false: not one;
 * undefined: too few bytes to tell.
 */
export function looksLikeMqttConnect(buf: Buffer, off: number, len: number): boolean | undefined {
  if (len < 1) return undefined;
  if (buf[off] !== CONNECT << 4) return false;
  const end = off + len;
  const h = readFixedHeader(buf, off, end);
  if (h === NEED_MORE) return undefined;
  if (h === BAD_LENGTH) return false;
  const hl = h & 7;
  if ((h - hl) / 8 < 12) return false;
  const p = off + hl;
  if (p + 2 > end) return undefined;
  const nameLen = (buf[p] << 8) | buf[p + 1];
  const name = nameLen === 4 ? 'MQTT' : nameLen === 6 ? 'MQIsdp' : null;
  if (name === null) return false;
  for (let i = 0; i < nameLen; i++) {
    if (p + 2 + i >= end) return undefined;
    if (buf[p + 2 + i] !== name.charCodeAt(i)) return false;
  }
  const lp = p + 2 + nameLen;
  if (lp >= end) return undefined;
  const level = buf[lp] & 0x7f;
  return level >= 3 && level <= 5;
}

/**
 * Midstream recognition: from `off`, valid fixed headers (a valid type and flags combination and
 * a remaining length possible for the type) whose lengths chain to the end of the data or into a
 * partial last packet.
 */
export function looksLikeMqttStream(buf: Buffer, off: number, len: number): boolean {
  if (len <= 0) return false;
  const end = off + len;
  let p = off;
  while (p < end) {
    const b = buf[p];
    if (!isStrictHeaderByte(b, 0)) return false;
    const h = readFixedHeader(buf, p, end);
    if (h === NEED_MORE) return true;
    if (h === BAD_LENGTH) return false;
    const hl = h & 7;
    const rem = (h - hl) / 8;
    const type = b >> 4;
    const qos = (b >> 1) & 3;
    if (!plausibleRemaining(type, qos, rem, 0)) return false;
    // A PUBLISH's topic must fit in the packet [MQTT-3.3.2-1].
    if (type === PUBLISH && p + hl + 2 <= end && ((buf[p + hl] << 8) | buf[p + hl + 1]) + 2 + (qos > 0 ? 2 : 0) > rem) return false;
    p += hl + rem;
  }
  return true;
}
