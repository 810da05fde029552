// The one way user input reaches ClickHouse SQL.
//
// ClickHouse 18.16 has no server-side query parameters ({name:Type} came in 19.x), so values are
// written into the query text. Every such value passes through this file, after schema
// validation (../validate.ts) has fixed its type and size:
//   - strings become single-quoted literals with backslash, quote, NUL and every other control
//     character escaped (ClickHouse string literal syntax: \\ \' \0 \n \r \t \b \f \xHH);
//   - numbers must be finite safe integers and are printed in decimal;
//   - identifiers (database, tables, columns) come from a whitelist, never from input.
// Anything else is a programming error and throws before a query is sent.

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

// Backslash, quote, C0 controls and DEL; lone surrogates are checked separately (they cannot
// be sent as UTF-8 at all).
const NEEDS_ESCAPE = /[\\'\u0000-\u001f\u007f]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export class SqlEscapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlEscapeError';
  }
}

/** A ClickHouse string literal, quotes included. */
export function sqlString(value: string): string {
  if (typeof value !== 'string') throw new SqlEscapeError(`not a string: ${typeof value}`);
  if (LONE_SURROGATE.test(value)) throw new SqlEscapeError('string has a lone surrogate (not encodable as UTF-8)');
  return `'${value.replace(NEEDS_ESCAPE, (c) => SIMPLE_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}

/** A finite safe integer (negative allowed). */
export function sqlInt(value: number): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new SqlEscapeError(`not a safe integer: ${String(value)}`);
  return String(value);
}

/** A non-negative safe integer (UInt columns: timestamps, counts, seq). */
export function sqlUint(value: number): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new SqlEscapeError(`not a non-negative safe integer: ${String(value)}`);
  return String(value);
}

/** ['a', 'b'] as an array literal of escaped strings. */
export function sqlStringList(values: readonly string[]): string {
  return values.map(sqlString).join(', ');
}

/** Shape of an identifier we are willing to whitelist at all (database names from configuration). */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** An identifier that must be in `allowed`; returned unquoted (all whitelisted names are plain). */
export function sqlIdent(name: string, allowed: ReadonlySet<string>): string {
  if (typeof name !== 'string' || !allowed.has(name) || !IDENTIFIER.test(name)) throw new SqlEscapeError(`identifier not allowed: ${JSON.stringify(name)}`);
  return name;
}
