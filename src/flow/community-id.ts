// Community ID v1 flow hashing (corelight community-id-spec). Computed once per flow when
// the flow is created; never on the per-packet path.
import { createHash } from 'node:crypto';

/**
 * Community ID v1 of a flow given as address bytes. The two address ranges must have the
 * same length (4 or 16). Ports are taken as given: for TCP/UDP/SCTP the transport ports
 * (ICMP type/code mapping is the caller's business; this sensor hashes TCP and UDP only).
 *
 * Spec: sha1(seed(2 BE) . addr1 . addr2 . proto(1) . pad(1)=0 . port1(2 BE) . port2(2 BE))
 * where (addr1, port1) is the smaller endpoint, compared address first, then port;
 * output "1:" + base64 of the digest.
 */
export function communityIdV1(
  proto: number,
  srcBuf: Uint8Array, srcOff: number,
  dstBuf: Uint8Array, dstOff: number,
  addrLen: 4 | 16,
  sport: number, dport: number,
  seed = 0,
): string {
  let cmp = 0;
  for (let i = 0; i < addrLen && cmp === 0; i++) cmp = srcBuf[srcOff + i] - dstBuf[dstOff + i];
  const srcFirst = cmp < 0 || (cmp === 0 && sport <= dport);

  const input = Buffer.allocUnsafe(2 + 2 * addrLen + 2 + 4);
  let o = input.writeUInt16BE(seed & 0xffff, 0);
  const [aBuf, aOff, aPort, bBuf, bOff, bPort] = srcFirst
    ? [srcBuf, srcOff, sport, dstBuf, dstOff, dport]
    : [dstBuf, dstOff, dport, srcBuf, srcOff, sport];
  input.set(aBuf.subarray(aOff, aOff + addrLen), o); o += addrLen;
  input.set(bBuf.subarray(bOff, bOff + addrLen), o); o += addrLen;
  input[o++] = proto & 0xff;
  input[o++] = 0;
  o = input.writeUInt16BE(aPort & 0xffff, o);
  input.writeUInt16BE(bPort & 0xffff, o);
  return '1:' + createHash('sha1').update(input).digest('base64');
}
