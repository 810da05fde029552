import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { escapeSdValue, formatSyslog, headerField, octetCountingFrame, syslogTimestamp, truncateUtf8 } from '../../src/siem/syslog';
import { OctetCountingParser, parse5424 } from './receivers';

const base = { facility: 16, severity: 3, timestampUs: 1714564800123456, hostname: 'probe-1', appName: 'iotwatch', procId: '42', msgId: 'alert' };

describe('RFC 5424 messages', () => {
  it('formats header, structured data and MSG', () => {
    const line = formatSyslog({ ...base, sequenceId: 7, software: { name: 'iotwatch', version: '0.1.0' } }, 'CEF:0|x');
    expect(line).toBe('<131>1 2024-05-01T12:00:00.123456Z probe-1 iotwatch 42 alert [origin software="iotwatch" swVersion="0.1.0"][meta sequenceId="7"] CEF:0|x');
    const p = parse5424(line);
    expect(p).toMatchObject({ facility: 16, severity: 3, version: 1, hostname: 'probe-1', msg: 'CEF:0|x', sd: { meta: { sequenceId: '7' } } });
    expect(formatSyslog(base, 'm')).toBe('<131>1 2024-05-01T12:00:00.123456Z probe-1 iotwatch 42 alert - m');
  });

  it('keeps header fields PRINTUSASCII and within their sizes, NILVALUE when empty', () => {
    expect(headerField('host name\u00e9\n', 255)).toBe('hostname');
    expect(headerField('', 48)).toBe('-');
    expect(headerField('x'.repeat(100), 48)).toHaveLength(48);
    const p = parse5424(formatSyslog({ ...base, hostname: 'ü', appName: 'a'.repeat(60), msgId: 'm'.repeat(40) }, 'x'));
    expect([p.hostname, p.appName.length, p.msgId.length]).toEqual(['-', 48, 32]);
  });

  it('escapes SD values', () => {
    expect(escapeSdValue('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
    const p = parse5424(formatSyslog({ ...base, software: { name: 'x"]\\', version: '1' } }, 'm'));
    expect(p.sd.origin.software).toBe('x"]\\');
  });

  it('refuses a facility outside 0..23', () => {
    expect(() => formatSyslog({ ...base, facility: 24 }, 'm')).toThrow();
  });

  it('writes microsecond timestamps', () => {
    expect(syslogTimestamp(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(syslogTimestamp(1714564800000001)).toBe('2024-05-01T12:00:00.000001Z');
  });

  it('truncates at a character boundary and never leaves a dangling escape', () => {
    expect(truncateUtf8('abc', 10)).toEqual({ bytes: Buffer.from('abc'), truncated: false });
    expect(truncateUtf8('aé', 2).bytes.toString()).toBe('a');
    expect(truncateUtf8('ab\\\\c', 3).bytes.toString()).toBe('ab');
    expect(truncateUtf8('ab\\\\c', 4).bytes.toString()).toBe('ab\\\\');
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), fc.integer({ min: 0, max: 200 }), (s, n) => {
      const t = truncateUtf8(s, n);
      expect(t.bytes.length).toBeLessThanOrEqual(Math.max(n, 0));
      expect(Buffer.from(t.bytes.toString('utf8'), 'utf8').equals(t.bytes)).toBe(true); // valid UTF-8
    }));
  });

  it('frames with octet counting that a strict parser splits back, in any chunking', () => {
    fc.assert(fc.property(fc.array(fc.string({ minLength: 1, maxLength: 50, unit: 'grapheme' }), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 7 }), (msgs, step) => {
      const stream = Buffer.concat(msgs.map((m) => octetCountingFrame(Buffer.from(m))));
      const p = new OctetCountingParser();
      for (let i = 0; i < stream.length; i += step) p.push(stream.subarray(i, i + step));
      expect(p.messages).toEqual(msgs);
    }));
  });
});
