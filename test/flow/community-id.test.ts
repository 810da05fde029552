import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/flow/address';
import { communityIdV1 } from '../../src/flow/community-id';

function cid(proto: number, src: string, sport: number, dst: string, dport: number, seed = 0): string {
  const s = parseIp(src)!;
  const d = parseIp(dst)!;
  return communityIdV1(proto, s, 0, d, 0, s.length as 4 | 16, sport, dport, seed);
}

// Published vectors: corelight community-id-spec baseline and the reference
// implementations' test suites (Zeek, Python, C).
const VECTORS: Array<[string, number, string, number, string, number, number, string]> = [
  ['tcp', 6, '128.232.110.120', 34855, '66.35.250.204', 80, 0, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  ['udp', 17, '192.168.1.52', 54585, '8.8.8.8', 53, 0, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  ['tcp ipv6', 6, '2001:470:e5bf:dead:4957:2174:e82c:4887', 63943, '2607:f8b0:400c:c03::1a', 25, 0, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  ['tcp', 6, '1.2.3.4', 1122, '5.6.7.8', 3344, 0, '1:wCb3OG7yAFWelaUydu0D+125CLM='],
  ['udp', 17, '1.2.3.4', 1122, '5.6.7.8', 3344, 0, '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg='],
  ['tcp seed 1', 6, '1.2.3.4', 1122, '5.6.7.8', 3344, 1, '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk='],
  ['udp seed 1', 17, '1.2.3.4', 1122, '5.6.7.8', 3344, 1, '1:OShq+iKDAMVouh/4bMxB9Sz4amw='],
  // ICMPv6 echo 128 -> 129 is hashed with the types as ports: exercises 16-byte addresses.
  ['icmp6 echo', 58, 'fe80:1:203:405:607:809:a0b:c0d', 128, 'fe80:1011:1213:1415:1617:1819:1a1b:1c1d', 129, 0, '1:0bf7hyMJUwt3fMED7z8LIfRpBeo='],
  ['icmp6 echo seed 1', 58, 'fe80:1:203:405:607:809:a0b:c0d', 128, 'fe80:1011:1213:1415:1617:1819:1a1b:1c1d', 129, 1, '1:IO27GQzPuCtNnwFvjWALMHu5tJE='],
];

describe('communityIdV1', () => {
  it.each(VECTORS)('%s %i %s:%i -> %s:%i seed %i', (_n, proto, src, sport, dst, dport, seed, want) => {
    expect(cid(proto, src, sport, dst, dport, seed)).toBe(want);
  });

  it.each(VECTORS)('is the same for the reverse direction (%s)', (_n, proto, src, sport, dst, dport, seed, want) => {
    expect(cid(proto, dst, dport, src, sport, seed)).toBe(want);
  });

  it('orders equal addresses by port', () => {
    expect(cid(6, '10.0.0.1', 2000, '10.0.0.1', 1000)).toBe(cid(6, '10.0.0.1', 1000, '10.0.0.1', 2000));
  });

  it('reads addresses at their offsets in a larger buffer', () => {
    const b = Buffer.alloc(40, 0xee);
    parseIp('128.232.110.120')!.copy(b, 13);
    parseIp('66.35.250.204')!.copy(b, 29);
    expect(communityIdV1(6, b, 13, b, 29, 4, 34855, 80)).toBe('1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  });
});
