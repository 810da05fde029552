// Runs a capture through the whole sensor pipeline in-process and collects its events.
import { readCapture } from '../../src/capture/reader';
import type { CaptureStats } from '../../src/capture/types';
import type { IotEvent } from '../../src/events/types';
import { Pipeline, type PipelineOptions, type PipelineStats } from '../../src/pipeline';

export const TEST_SECRET = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

export interface DecodedCapture {
  events: IotEvent[];
  capture: CaptureStats;
  stats: PipelineStats;
}

export async function decodeCapture(path: string, opts: Partial<PipelineOptions> = {}): Promise<DecodedCapture> {
  const events: IotEvent[] = [];
  const p = new Pipeline({ sensorId: 'test-sensor', secret: TEST_SECRET, emit: (e) => events.push(e), ...opts });
  const capture = await readCapture(path, p.packet);
  const stats = p.finish();
  return { events, capture, stats };
}
