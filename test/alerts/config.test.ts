import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from '../../src/alerts/config';
import { createEngine } from '../../src/alerts/engine';
import { DETECTORS } from '../../detectors';

function problems(cfg: unknown): readonly string[] {
  try {
    validateConfig(cfg);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return [];
}

describe('validateConfig', () => {
  it('defaults', () => {
    const c = validateConfig(undefined);
    expect(c.engine).toEqual({ learningPeriod: 600, learningPeriodSet: false, suppress: 3600, maxAlerts: 100_000 });
    expect(c.detectors.get('mqtt.auth_bruteforce')).toEqual({ enabled: true, suppress: 3600, tunables: DETECTORS.find((d) => d.id === 'mqtt.auth_bruteforce')!.tunables });
  });

  it('applies overrides', () => {
    const c = validateConfig({ learningPeriod: 60, suppress: 600, detectors: { 'mqtt.auth_bruteforce': { maxGuesses: 20, suppress: 120 }, 'tls.weak_version': { enabled: false, minVersion: 'TLS 1.3' } } });
    expect(c.engine).toMatchObject({ learningPeriod: 60, learningPeriodSet: true, suppress: 600 });
    expect(c.detectors.get('mqtt.auth_bruteforce')).toMatchObject({ suppress: 120, tunables: { maxGuesses: 20, window: 300 } });
    expect(c.detectors.get('mqtt.rate_anomaly')!.suppress).toBe(600);
    expect(c.detectors.get('tls.weak_version')).toMatchObject({ enabled: false, tunables: { minVersion: 'TLS 1.3' } });
  });

  it('lists every problem: unknown keys, unknown detectors and tunables, types, ranges', () => {
    expect(problems({
      learningPeriod: -1,
      sensitivity: 3,
      detectors: {
        'mqtt.auth_bruteforc': {},
        'mqtt.auth_bruteforce': { maxGuesses: 0, window: 1.5, maxGuess: 3 },
        'mqtt.connect_flood': { ports: [1883, 70000] },
        'tls.weak_version': { minVersion: 'TLS 1.0', enabled: 'yes' },
        'mqtt.protocol_violation': { ignoreCodes: 'mqtt.malformed' },
        'mqtt.rate_anomaly': 5,
      },
    })).toEqual([
      'learningPeriod: -1 is below the minimum 0',
      'unknown key "sensitivity" (expected learningPeriod, suppress, maxAlerts, detectors)',
      'detectors: unknown detector "mqtt.auth_bruteforc" (did you mean "mqtt.auth_bruteforce"?)',
      'detectors["mqtt.auth_bruteforce"].maxGuesses: 0 is below the minimum 2',
      'detectors["mqtt.auth_bruteforce"].window: expected an integer, got 1.5',
      'detectors["mqtt.auth_bruteforce"].maxGuess: unknown tunable (did you mean "maxGuesses"?)',
      'detectors["mqtt.connect_flood"].ports[1]: 70000 is above the maximum 65535',
      'detectors["mqtt.protocol_violation"].ignoreCodes: expected a list of strings',
      'detectors["mqtt.rate_anomaly"]: expected an object',
      'detectors["tls.weak_version"].minVersion: "TLS 1.0" is not one of TLS 1.1, TLS 1.2, TLS 1.3',
      'detectors["tls.weak_version"].enabled: expected true or false, got "yes"',
    ]);
  });

  it('the error message names the source and each problem on its own line', () => {
    expect(() => validateConfig({ detectors: { nope: {} } }, DETECTORS, 'site.json')).toThrow(/^site\.json: 1 problem\n  detectors: unknown detector "nope"$/);
    expect(() => validateConfig([])).toThrow(/expected a JSON object/);
  });

  it('createEngine validates too', () => {
    expect(() => createEngine({ config: { detectors: { 'mqtt.rate_anomaly': { z: 0 } } } })).toThrow(ConfigError);
  });

  it('every default value passes its own schema', () => {
    const all = Object.fromEntries(DETECTORS.map((d) => [d.id, { ...d.tunables }]));
    expect(problems({ detectors: all })).toEqual([]);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotwatch-config-'));

  it('reads JSON', () => {
    const p = join(dir, 'ok.json');
    writeFileSync(p, JSON.stringify({ detectors: { 'mqtt.device_silent': { minSilence: 900 } } }));
    expect(loadConfig(p).detectors.get('mqtt.device_silent')!.tunables.minSilence).toBe(900);
  });

  it('clear errors for a missing file, bad JSON and bad values', () => {
    expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(/missing\.json: 1 problem\n  cannot read/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "detectors": ');
    expect(() => loadConfig(bad)).toThrow(/not valid JSON/);
    const range = join(dir, 'range.json');
    writeFileSync(range, JSON.stringify({ maxAlerts: 0 }));
    expect(() => loadConfig(range)).toThrow(/range\.json: 1 problem\n  maxAlerts: 0 is below the minimum 1/);
  });
});
