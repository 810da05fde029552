// Token buckets keyed by client address and by API token. The table is bounded: at the cap
// the least recently used bucket goes (Map keeps insertion order and a hit re-inserts), and
// every eviction is counted. A bucket evicted while empty comes back full; the cap is set
// far above the clients a sensor's API sees, so that costs a flood little.
export interface BucketConfig {
  /** Burst size. */
  readonly capacity: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
}

export interface RateLimitOptions {
  readonly perIp?: BucketConfig | false;
  readonly perToken?: BucketConfig | false;
  /** Most buckets kept per table. */
  readonly maxKeys?: number;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

export const DEFAULT_RATE_LIMIT = {
  perIp: { capacity: 200, refillPerSecond: 100 },
  perToken: { capacity: 400, refillPerSecond: 200 },
  maxKeys: 10_000,
} as const;

interface Bucket { tokens: number; at: number }

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  evictions = 0;
  limited = 0;

  constructor(private readonly cfg: BucketConfig, private readonly maxKeys: number, private readonly now: () => number) {
    if (!(cfg.capacity >= 1) || !(cfg.refillPerSecond > 0)) throw new Error('rate limit: capacity >= 1 and refillPerSecond > 0');
  }

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      b.tokens = Math.min(this.cfg.capacity, b.tokens + ((t - b.at) / 1000) * this.cfg.refillPerSecond);
      b.at = t;
    } else {
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
        this.evictions++;
      }
      b = { tokens: this.cfg.capacity, at: t };
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    this.limited++;
    return (1 - b.tokens) / this.cfg.refillPerSecond;
  }

  get size(): number {
    return this.buckets.size;
  }
}

export interface RateLimiter {
  readonly ip: TokenBuckets | null;
  readonly token: TokenBuckets | null;
}

export function createRateLimiter(opts: RateLimitOptions | false | undefined): RateLimiter {
  if (opts === false) return { ip: null, token: null };
  const now = opts?.now ?? Date.now;
  const maxKeys = opts?.maxKeys ?? DEFAULT_RATE_LIMIT.maxKeys;
  const ipCfg = opts?.perIp === undefined ? DEFAULT_RATE_LIMIT.perIp : opts.perIp;
  const tokCfg = opts?.perToken === undefined ? DEFAULT_RATE_LIMIT.perToken : opts.perToken;
  return {
    ip: ipCfg ? new TokenBuckets(ipCfg, maxKeys, now) : null,
    token: tokCfg ? new TokenBuckets(tokCfg, maxKeys, now) : null,
  };
}
