// Errors a store raises for bad input. Each has a stable `code` the API maps to an HTTP status
// (bad_cursor and bad_query to 400), so callers never match on message text.

/** A cursor that is not one this store issued, or was issued for a different query. */
export class CursorError extends Error {
  readonly code = 'bad_cursor' as const;
  constructor(message: string) {
    super(message);
    this.name = 'CursorError';
  }
}

/** A query, status change or alert that fails schema validation before it reaches a backend. */
export class StoreQueryError extends Error {
  readonly code = 'bad_query' as const;
  constructor(message: string) {
    super(message);
    this.name = 'StoreQueryError';
  }
}

/** Another process (or another store in this one) holds the embedded store's directory. */
export class StoreLockedError extends Error {
  readonly code = 'store_locked' as const;
  constructor(message: string) {
    super(message);
    this.name = 'StoreLockedError';
  }
}

export function isCursorError(e: unknown): e is CursorError {
  return e instanceof CursorError;
}

export function isStoreQueryError(e: unknown): e is StoreQueryError {
  return e instanceof StoreQueryError;
}
