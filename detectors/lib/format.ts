// Words for alert summaries.

/** 45 -> '45 s', 600 -> '10 min', 86400 -> '24 h'. */
export function duration(seconds: number): string {
  if (seconds < 120 || seconds % 60 !== 0) return `${seconds} s`;
  if (seconds < 7200 || seconds % 3600 !== 0) return `${seconds / 60} min`;
  return `${seconds / 3600} h`;
}
