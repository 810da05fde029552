// The stores the API tests run against: the memory test double always, and the real
// embedded store once it exists (the same tests, a second run).
import type { AlertStore } from '../../src/store/types';
import { MemoryStore } from './memory-store';

export interface StoreKind {
  readonly name: string;
  /** A fresh, initialised, empty store. */
  make(): Promise<AlertStore>;
}

export const STORE_KINDS: StoreKind[] = [
  { name: 'memory double', make: async () => new MemoryStore() },
];
