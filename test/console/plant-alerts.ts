// The alerts of a known capture, as an analyst gets them: learn from the benign plant, then
// analyse the attack capture with that baseline (the in-process twin of `iotwatch learn` +
// `iotwatch analyze --baseline`). Shared by the console and dashboard tests.
import { join } from 'node:path';
import { createEngine } from '../../src/alerts/engine';
import type { Alert } from '../../src/alerts/types';
import { readCapture } from '../../src/capture/reader';
import type { IotEvent } from '../../src/events/types';
import { Pipeline } from '../../src/pipeline';
import { TEST_SECRET } from '../helpers/pipeline';

export const PCAPS = join(__dirname, '..', '..', 'pcaps');

async function run(file: string, mode: 'learn' | 'detect', baseline?: unknown, onEvent?: (e: IotEvent) => void) {
  const engine = createEngine({ mode, baseline });
  const p = new Pipeline({
    sensorId: 'plant-1',
    secret: TEST_SECRET,
    emit: (e) => {
      engine.onEvent(e);
      onEvent?.(e);
    },
  });
  await readCapture(join(PCAPS, file), p.packet);
  p.finish();
  engine.flush();
  return engine;
}

/** Alerts of pcaps/plant-attack.pcap against a baseline learned from pcaps/plant-benign.pcap. */
export async function plantAttackAlerts(onEvent?: (e: IotEvent) => void): Promise<Alert[]> {
  const baseline = (await run('plant-benign.pcap', 'learn')).exportBaseline();
  return (await run('plant-attack.pcap', 'detect', baseline, onEvent)).alerts();
}
