// Bounds by partition dropping: every table is partitioned by month of its write time, and a
// month whose last day is older than the table's retention is dropped whole. This is the only
// bound 18.16 offers (table TTL came in 19.6) and it is cheap on every version, so it runs on
// both; on 24+ the TTL clause additionally expires rows within the month.
// A kept month may hold rows up to retention + 31 days old: the price of month partitions.
import type { Connection } from './connection';
import { sqlString, sqlUint } from './escape';
import { retentionDays, TABLES } from './schema';
import type { TableName } from './schema';

export interface RetentionContext {
  database: string;
  alertsRetentionDays: number;
  recordsRetentionDays: number;
  /** Cluster mode: drop on the local tables of every node. */
  cluster?: { name: string; onCluster: boolean };
}

/** First instant after the month of a YYYYMM partition id (UTC). */
export function monthEndMs(partition: string): number {
  const y = Number(partition.slice(0, 4));
  const m = Number(partition.slice(4, 6));
  return Date.UTC(y, m, 1); // Date.UTC months are 0-based: m is already "next month"
}

/** Partitions (YYYYMM) of a table that lie wholly before now - retention. */
export function expiredPartitions(partitions: readonly string[], days: number, nowMs: number): string[] {
  const cutoff = nowMs - days * 86_400_000;
  return partitions.filter((p) => /^\d{6}$/.test(p) && monthEndMs(p) <= cutoff).sort();
}

/** Drops expired partitions of every table; returns what was dropped. */
export async function dropExpiredPartitions(conn: Connection, ctx: RetentionContext, nowMs = Date.now()): Promise<{ table: TableName; partition: string }[]> {
  const dropped: { table: TableName; partition: string }[] = [];
  for (const table of TABLES) {
    const local = ctx.cluster ? `${table}_local` : table;
    const rows = await conn.query<{ partition: string }>(
      `SELECT DISTINCT partition FROM system.parts WHERE database = ${sqlString(ctx.database)} AND table = ${sqlString(local)} AND active`);
    for (const p of expiredPartitions(rows.map((r) => String(r.partition)), retentionDays(table, ctx), nowMs)) {
      const on = ctx.cluster?.onCluster ? ` ON CLUSTER ${ctx.cluster.name}` : '';
      // The partition id was checked to be six digits; sqlUint prints it back as the literal.
      await conn.command(`ALTER TABLE ${ctx.database}.${local}${on} DROP PARTITION ${sqlUint(Number(p))}`);
      dropped.push({ table, partition: p });
    }
  }
  return dropped;
}
