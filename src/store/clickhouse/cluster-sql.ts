// The multi-sensor cluster layout (docs/clickhouse-cluster.md): on every node a
// Replicated*MergeTree table `<name>_local` holding its shard's rows, and a Distributed table
// `<name>` over them that the store reads and writes. Same columns, keys, partitions and TTL as
// the single-node schema (schema.ts), so the store's queries do not change.
//
// Sharding keeps what must meet on one shard together: an alert and its status rows by id (so
// FINAL sees every version of an alert on one shard), forensic rows by sensor (their identities
// start with the sensor).
//
// Replicated tables need ZooKeeper (or ClickHouse Keeper on 24+), and so does ON CLUSTER DDL.
// `replicated: false, onCluster: false` gives the same layout over plain MergeTree tables on a
// single node, which is how the tests exercise the Distributed side on 18.16 without ZooKeeper.
import { IDENTIFIER } from './escape';
import { COLUMNS, engineArgs, TABLE_LAYOUT, TABLES, columnsDdl, tableTail } from './schema';
import type { SchemaContext, TableName } from './schema';

export interface ClusterLayout {
  /** Cluster name from the servers' remote_servers configuration. */
  cluster: string;
  /** Replicated engines with ZooKeeper paths and {shard}/{replica} macros (default true). */
  replicated?: boolean;
  /** Add ON CLUSTER to DDL (default true). */
  onCluster?: boolean;
  /** ZooKeeper path of a local table; {database} and {table} are filled in here, {shard} by the server. */
  zooKeeperPath?: string;
}

export const DEFAULT_ZK_PATH = '/clickhouse/tables/{shard}/{database}/{table}';

export function checkClusterName(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`cluster name ${JSON.stringify(name)} must match ${IDENTIFIER}`);
  return name;
}

function onCluster(layout: ClusterLayout): string {
  return layout.onCluster === false ? '' : ` ON CLUSTER ${checkClusterName(layout.cluster)}`;
}

function localEngine(table: TableName, ctx: SchemaContext, layout: ClusterLayout): string {
  const kind = TABLE_LAYOUT[table].engine;
  const args = engineArgs(table);
  if (layout.replicated === false) return `${kind}(${args})`;
  const path = (layout.zooKeeperPath ?? DEFAULT_ZK_PATH).replace('{database}', ctx.database).replace('{table}', `${table}_local`);
  if (/'/.test(path)) throw new Error('ZooKeeper path must not contain quotes');
  return `Replicated${kind}('${path}', '{replica}'${args === '' ? '' : `, ${args}`})`;
}

/** DDL for the local table of `table` on every node. */
export function localTableSql(table: TableName, ctx: SchemaContext, layout: ClusterLayout): string {
  return `CREATE TABLE IF NOT EXISTS ${ctx.database}.${table}_local${onCluster(layout)} (\n  ${columnsDdl(table)}\n) ENGINE = ${localEngine(table, ctx, layout)}\n${tableTail(table, ctx)}`;
}

/**
 * DDL for the Distributed table. Its columns are listed without the MATERIALIZED `written`:
 * 18.16 forwards every column of a Distributed table to the shards on insert and then fails
 * with "Cannot insert column written, because it is MATERIALIZED column".
 */
export function distributedTableSql(table: TableName, ctx: SchemaContext, layout: ClusterLayout): string {
  const cols = COLUMNS[table].map((c) => `${c.name} ${c.type}`).join(',\n  ');
  return `CREATE TABLE IF NOT EXISTS ${ctx.database}.${table}${onCluster(layout)} (\n  ${cols}\n) ENGINE = Distributed(${checkClusterName(layout.cluster)}, ${ctx.database}, ${table}_local, ${TABLE_LAYOUT[table].shardBy})`;
}

/** The whole cluster schema, in order: database, migrations table, then local + distributed per table. */
export function clusterSchemaSql(ctx: SchemaContext, layout: ClusterLayout): string[] {
  if (!IDENTIFIER.test(ctx.database)) throw new Error(`database name ${JSON.stringify(ctx.database)} must match ${IDENTIFIER}`);
  const out = [
    `CREATE DATABASE IF NOT EXISTS ${ctx.database}${onCluster(layout)}`,
    // Per node, not replicated: the migrations are idempotent, so a node that has no record of
    // one simply applies it again (IF NOT EXISTS everywhere) and records it.
    `CREATE TABLE IF NOT EXISTS ${ctx.database}.schema_migrations${onCluster(layout)} (version UInt32, applied DateTime) ENGINE = MergeTree ORDER BY version`,
  ];
  for (const t of TABLES) {
    out.push(localTableSql(t, ctx, layout));
    out.push(distributedTableSql(t, ctx, layout));
  }
  return out;
}
