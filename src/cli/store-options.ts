// Choosing and feeding the alert store from the command line: ClickHouse when a URL is given
// (--clickhouse or $IOTWATCH_CLICKHOUSE_URL), else the embedded store in $IOTWATCH_HOME/store.
import { join } from 'node:path';
import type { Alert } from '../alerts/types';
import type { IotEvent } from '../events/types';
import { createRecorder } from '../store/records';
import type { AlertStore } from '../store/types';
import { iotwatchHome } from '../util/secret';

export const STORE_OPTIONS = {
  clickhouse: { type: 'string' },
  store: { type: 'string' },
} as const;

export interface StoreOptionValues {
  clickhouse?: string;
  store?: string;
}

export function clickhouseUrl(v: StoreOptionValues, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return v.clickhouse ?? (env.IOTWATCH_CLICKHOUSE_URL || undefined);
}

export async function openStoreFromOptions(v: StoreOptionValues, sensor: string): Promise<AlertStore> {
  const url = clickhouseUrl(v);
  // Loaded here, not at start-up: `analyze --no-store` and decode need neither store (nor the
  // ClickHouse client and its HTTP stack, a few hundred modules).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openStore } = require('../store') as typeof import('../store');
  const store = await openStore({ clickhouseUrl: url, dir: v.store ?? join(iotwatchHome(), 'store'), sensor });
  await store.init();
  return store;
}

/**
 * Feeds a store from the sensor: alerts (new and updated, same id) in batches, and the
 * forensic records (sessions, topic minutes, CoAP exchanges, TLS endpoints) aggregated from
 * events. flush() writes what is pending; the caller decides when (timer, end of input).
 */
export class StoreFeeder {
  private pending = new Map<string, Alert>();
  private readonly recorder;
  alertsWritten = 0;

  constructor(private readonly store: AlertStore, private readonly sensor: string) {
    this.recorder = createRecorder(sensor);
  }

  readonly onAlert = (a: Alert): void => {
    // Later versions of the same alert replace earlier ones in the batch (ids are stable).
    this.pending.set(a.id, structuredClone(a));
  };

  readonly onEvent = (e: IotEvent): void => {
    this.recorder.onEvent(e);
  };

  async flush(): Promise<void> {
    if (this.pending.size > 0) {
      const batch = [...this.pending.values()];
      this.pending = new Map();
      await this.store.putAlerts(batch, this.sensor);
      this.alertsWritten += batch.length;
    }
    const rows = this.recorder.flush();
    await this.store.putRecords(rows);
  }
}
