// The stores the API tests run against: the memory test double, and the real embedded store
// (the same tests, a second run), each fresh in its own directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createEmbeddedStore } from '../../src/store/embedded/embedded-store';
import type { AlertStore } from '../../src/store/types';
import { MemoryStore } from './memory-store';

export interface StoreKind {
  readonly name: string;
  /** A fresh, empty store (init() is the caller's, as with a real one). */
  make(): Promise<AlertStore>;
}

const root = mkdtempSync(join(tmpdir(), 'iotwatch-api-stores-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

export const STORE_KINDS: StoreKind[] = [
  { name: 'memory double', make: async () => new MemoryStore() },
  { name: 'embedded store', make: async () => createEmbeddedStore({ dir: join(root, `s${n++}`) }) },
];
