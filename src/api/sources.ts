// What the rest of the sensor hands the API: counters for /metrics and capture state for
// /api/v1/health. Callbacks, so the API never reaches into the pipeline.

/** Counters since start (monotonic) and gauges (current values), read on every scrape. */
export interface MetricsSnapshot {
  /** Packets and bytes captured (counters). */
  readonly packets: number;
  readonly bytes: number;
  /** Packets or records dropped, by reason: kernel, interface, flow_table_full ... (counters). */
  readonly drops: Readonly<Record<string, number>>;
  /** Flows in the table now (gauge) and flows seen (counter). */
  readonly flowsActive: number;
  readonly flowsTotal: number;
  /** Events decoded (counter). */
  readonly events: number;
  /** Alerts raised, by detector id (counters). */
  readonly alertsByDetector: Readonly<Record<string, number>>;
  /**
   * Seconds between an alert being raised and it being durable in the store (gauge). Optional:
   * the store's own health (lagMs) is used when it reports one.
   */
  readonly storeLagSeconds?: number;
}

export type MetricsSource = () => MetricsSnapshot;

export interface CaptureHealth {
  readonly ok: boolean;
  /** 'live eth0', 'file x.pcap (done)', 'idle' ... */
  readonly detail: string;
  readonly packets: number;
  readonly drops: number;
  /** Seconds since the last packet, null before the first. */
  readonly lastPacketAgeSeconds: number | null;
}

export type HealthSource = () => CaptureHealth;
