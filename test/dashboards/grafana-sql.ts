// What Grafana and the ClickHouse plugin do to a panel's rawSql before ClickHouse sees it,
// so the tests can run the same text. Two passes, in Grafana's order:
//   1. the front end interpolates template variables (templateSrv.replace): ${name},
//      ${name:format}, $name; a custom "All" value goes in raw, without the format;
//   2. the plugin's back end expands its macros (grafana/clickhouse-datasource pkg/macros):
//      $__timeFilter(col) -> col >= toDateTime(S) AND col <= toDateTime(S), $__fromTime ->
//      toDateTime(S), $__interval_s -> whole seconds (at least 1), and so on.
// Anything left that looks like a variable or macro is an error, never passed through.

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
}

export interface Target {
  refId: string;
  datasource: { type: string; uid: string };
  editorType: string;
  format: number;
  queryType: string;
  rawSql: string;
}

export interface Variable {
  type: 'constant' | 'query' | 'custom';
  name: string;
  query: string;
  datasource?: { type: string; uid: string };
  includeAll?: boolean;
  allValue?: string;
  multi?: boolean;
}

/** A variable's selection: the values picked, or All. */
export type Selection = readonly string[] | 'all';

export interface QueryContext {
  /** Time range, Unix seconds. */
  fromS: number;
  toS: number;
  intervalS: number;
  selections: Readonly<Record<string, Selection>>;
}

function format(values: readonly string[], fmt: string | undefined, name: string): string {
  switch (fmt) {
    case undefined:
    case 'raw':
      if (values.length !== 1) throw new Error(`\${${name}} has ${values.length} values and no format`);
      return values[0];
    case 'singlequote':
      // Grafana's singlequote: backslash-escapes quotes, joins with commas.
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'sqlstring':
      return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
    case 'csv':
      return values.join(',');
    default:
      throw new Error(`unsupported variable format :${fmt} in \${${name}}`);
  }
}

/** Pass 1: template variables. Built-in $__ names are left for pass 2. */
export function interpolateVariables(sql: string, variables: readonly Variable[], selections: Readonly<Record<string, Selection>>): string {
  const byName = new Map(variables.map((v) => [v.name, v]));
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (whole, braced: string | undefined, fmt: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    if (name.startsWith('__')) return whole;
    const v = byName.get(name);
    if (!v) throw new Error(`unknown template variable $${name}`);
    if (v.type === 'constant') return format([v.query], fmt, name);
    const sel = selections[name];
    if (sel === undefined) throw new Error(`no selection given for $${name}`);
    if (sel === 'all') {
      if (!v.includeAll) throw new Error(`$${name} has no All option`);
      // A custom all value is interpolated as it is, without the format.
      if (v.allValue === undefined) throw new Error(`$${name}: this test expects a custom all value`);
      return v.allValue;
    }
    if (sel.length > 1 && !v.multi) throw new Error(`$${name} is not multi-value`);
    return format(sel, fmt, name);
  });
}

/** Pass 2: the ClickHouse plugin's macros, with the expansions of its pkg/macros/macros.go. */
export function expandMacros(sql: string, ctx: QueryContext): string {
  const dt = (s: number): string => `toDateTime(${s})`;
  const dt64 = (s: number): string => `fromUnixTimestamp64Milli(${s * 1000})`;
  const day = (s: number): string => `toDate('${new Date(s * 1000).toISOString().slice(0, 10)}')`;
  const interval = Math.max(Math.floor(ctx.intervalS), 1);
  return sql.replace(/\$__(\w+)(?:\(([^()]*)\))?/g, (whole, name: string, argText: string | undefined) => {
    const args = argText === undefined ? [] : argText.split(',').map((a) => a.trim());
    const one = (): string => {
      if (args.length !== 1) throw new Error(`$__${name} expects 1 argument: ${whole}`);
      return args[0];
    };
    switch (name) {
      case 'fromTime': return dt(ctx.fromS);
      case 'toTime': return dt(ctx.toS);
      case 'fromTime_ms': return dt64(ctx.fromS);
      case 'toTime_ms': return dt64(ctx.toS);
      case 'timeFilter': return `${one()} >= ${dt(ctx.fromS)} AND ${one()} <= ${dt(ctx.toS)}`;
      case 'timeFilter_ms': return `${one()} >= ${dt64(ctx.fromS)} AND ${one()} <= ${dt64(ctx.toS)}`;
      case 'dateFilter': return `${one()} >= ${day(ctx.fromS)} AND ${one()} <= ${day(ctx.toS)}`;
      case 'timeInterval': return `toStartOfInterval(toDateTime(${one()}), INTERVAL ${interval} second)`;
      case 'interval_s': return String(interval);
      // Grafana's own globals, interpolated by the front end (ms since the epoch).
      case 'from': return String(ctx.fromS * 1000);
      case 'to': return String(ctx.toS * 1000);
      default: throw new Error(`unknown macro $__${name}`);
    }
  });
}

/** The SQL ClickHouse receives for a panel's rawSql. */
export function panelSql(rawSql: string, variables: readonly Variable[], ctx: QueryContext): string {
  const sql = expandMacros(interpolateVariables(rawSql, variables, ctx.selections), ctx);
  if (sql.includes('$')) throw new Error(`a variable or macro was left in the SQL: ${sql}`);
  return sql;
}
