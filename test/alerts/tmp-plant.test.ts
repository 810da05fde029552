import { join } from 'node:path';
import { it } from 'vitest';
import { createEngine } from '../../src/alerts/engine';
import { readCapture } from '../../src/capture/reader';
import { Pipeline } from '../../src/pipeline';
import { TEST_SECRET } from '../helpers/pipeline';
const pcaps = join(__dirname, '..', '..', 'pcaps');
async function run(file: string, mode: 'learn' | 'detect', baseline?: unknown) {
  const engine = createEngine({ mode, baseline });
  const p = new Pipeline({ sensorId: 'scenario', secret: TEST_SECRET, emit: (e) => engine.onEvent(e) });
  await readCapture(join(pcaps, file), p.packet);
  p.finish();
  engine.flush();
  return engine;
}
it('print', async () => {
  const b = (await run('plant-benign.pcap', 'learn')).exportBaseline();
  for (const f of ['plant-benign.pcap', 'plant-attack.pcap']) {
    const e = await run(f, 'detect', b);
    console.log('=====', f, e.stats().baselineWarnings);
    for (const a of e.alerts()) console.log(a.id.slice(0, 8), a.detector, a.severity, `${a.entity.kind}=${a.entity.value}`, 'count', a.count, '|', a.summary);
  }
}, 120000);
