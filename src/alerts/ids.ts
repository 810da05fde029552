import { createHash } from 'node:crypto';

export const ALERT_ID_LENGTH = 32;

/**
 * Deterministic alert id: the same detector, suppression key and window start always give
 * the same id, so a capture analysed twice (or by two sensors) names its alerts alike.
 */
export function alertId(detector: string, key: string, windowStart: number): string {
  return createHash('sha256')
    .update(detector).update('\0')
    .update(key).update('\0')
    .update(String(windowStart))
    .digest('hex')
    .slice(0, ALERT_ID_LENGTH);
}
