// Opening a store: ClickHouse when a URL is given, else the embedded file store.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createClickHouseStore } from './clickhouse/clickhouse-store';
import type { ClickHouseStoreOptions } from './clickhouse/clickhouse-store';
import { createEmbeddedStore } from './embedded/embedded-store';
import type { EmbeddedStoreOptions } from './embedded/embedded-store';
import type { AlertStore } from './types';

export type { AlertStore } from './types';
export * from './types';
export { CursorError, StoreLockedError, StoreQueryError, isCursorError, isStoreQueryError } from './errors';
export { createRecorder } from './records';
export type { Recorder, RecorderOptions, RecorderRows, RecorderStats } from './records';
export { ClickHouseStore, createClickHouseStore } from './clickhouse/clickhouse-store';
export type { ClickHouseStoreOptions } from './clickhouse/clickhouse-store';
export { EmbeddedStore, createEmbeddedStore } from './embedded/embedded-store';
export type { EmbeddedStoreOptions } from './embedded/embedded-store';

export interface OpenStoreOptions {
  /** ClickHouse HTTP URL (http://[user:pass@]host:8123[/database]); absent = embedded store. */
  clickhouseUrl?: string;
  /**
   * Local directory: the embedded store's files, or the ClickHouse spool (<dir>/spool).
   * Default: defaultStoreDir().
   */
  dir?: string;
  /** Sensor id of this process (informational: puts name their sensor). */
  sensor?: string;
  /** Extra options for the store that is opened. */
  embedded?: Partial<Omit<EmbeddedStoreOptions, 'dir'>>;
  clickhouse?: Partial<Omit<ClickHouseStoreOptions, 'url' | 'spoolDir'>>;
}

/** $IOTWATCH_HOME/store, or ~/.iotwatch/store. */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.IOTWATCH_HOME && env.IOTWATCH_HOME !== '' ? env.IOTWATCH_HOME : join(homedir(), '.iotwatch');
  return join(home, 'store');
}

/**
 * Store options from the environment, for the CLI: IOTWATCH_CLICKHOUSE_URL selects ClickHouse,
 * IOTWATCH_HOME the directory. A --clickhouse flag given by the user should override the URL.
 */
export function storeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OpenStoreOptions {
  const url = env.IOTWATCH_CLICKHOUSE_URL;
  return { clickhouseUrl: url && url !== '' ? url : undefined, dir: defaultStoreDir(env) };
}

/** Opens and initialises (creates or migrates) the store the options select. */
export async function openStore(opts: OpenStoreOptions = {}): Promise<AlertStore> {
  const dir = opts.dir ?? defaultStoreDir();
  const store: AlertStore = opts.clickhouseUrl
    ? createClickHouseStore({ ...opts.clickhouse, url: opts.clickhouseUrl, spoolDir: join(dir, 'spool') })
    : createEmbeddedStore({ ...opts.embedded, dir });
  try {
    await store.init();
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  return store;
}
