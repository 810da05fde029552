// The flow table's index: bidirectional 5-tuple keys held as small integers (Smis) and a
// chained hash over them. Looking up a packet's flow allocates nothing: the key is written
// into a reused probe and compared word by word.

/**
 * Transport protocol and both endpoints, the smaller one first (Community ID order): `a` is
 * the endpoint that sorts first. IPv4 addresses take one 32-bit word (a1..a3 stay 0), IPv6
 * four. Every field is an int32, so V8 keeps them as Smis.
 */
export class FlowKey {
  /** IP protocol number, plus 256 for IPv6 (so a v4 and a v6 key never compare equal). */
  x = 0;
  /** Port of `a` in the high 16 bits, port of `b` in the low 16. */
  ports = 0;
  a0 = 0;
  b0 = 0;
  a1 = 0;
  a2 = 0;
  a3 = 0;
  b1 = 0;
  b2 = 0;
  b3 = 0;

  equals(k: FlowKey): boolean {
    return this.a0 === k.a0 && this.b0 === k.b0 && this.ports === k.ports && this.x === k.x &&
      // IPv4 keys keep the other words at 0: only IPv6 keys need them compared.
      (this.x < 256 || (this.a1 === k.a1 && this.a2 === k.a2 && this.a3 === k.a3 &&
        this.b1 === k.b1 && this.b2 === k.b2 && this.b3 === k.b3));
  }

  /** Makes this key equal to `k`. */
  setKey(k: FlowKey): void {
    this.x = k.x;
    this.ports = k.ports;
    this.a0 = k.a0; this.a1 = k.a1; this.a2 = k.a2; this.a3 = k.a3;
    this.b0 = k.b0; this.b1 = k.b1; this.b2 = k.b2; this.b3 = k.b3;
  }

  copy(): FlowKey {
    const k = new FlowKey();
    k.setKey(this);
    return k;
  }

  /** 32-bit hash, keyed by `seed` (murmur3-style mixing of each word). */
  hash(seed: number): number {
    let h = seed ^ this.x;
    h = mix(h, this.ports);
    h = mix(h, this.a0);
    h = mix(h, this.b0);
    if (this.x >= 256) {
      h = mix(h, this.a1); h = mix(h, this.a2); h = mix(h, this.a3);
      h = mix(h, this.b1); h = mix(h, this.b2); h = mix(h, this.b3);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h;
  }
}

function mix(h: number, w: number): number {
  let k = Math.imul(w, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** What the index holds: keys (a flow is its own key, for locality) with a bucket link. */
export interface Hashed<T> extends FlowKey {
  hnext: T | null;
}

const MIN_BUCKETS = 1024;

/**
 * Separate chaining through the entries' own `hnext` link (no per-entry allocation). The
 * bucket array doubles when entries outnumber buckets, so chains stay short on average; the
 * hash is seeded per table so that chosen 5-tuples cannot aim at one bucket.
 */
export class FlowHash<T extends Hashed<T>> {
  private buckets: (T | null)[] = new Array<T | null>(MIN_BUCKETS).fill(null);
  private mask = MIN_BUCKETS - 1;
  private readonly seed = (Math.random() * 0x100000000) | 0;
  size = 0;

  get(k: FlowKey): T | undefined {
    for (let e = this.buckets[k.hash(this.seed) & this.mask]; e !== null; e = e.hnext) {
      if (e.equals(k)) return e;
    }
    return undefined;
  }

  /** Adds an entry whose key is not in the index. */
  add(e: T): void {
    if (this.size >= this.buckets.length) this.grow();
    const i = e.hash(this.seed) & this.mask;
    e.hnext = this.buckets[i];
    this.buckets[i] = e;
    this.size++;
  }

  /** Removes the entry (by identity); false when it was not in the index. */
  delete(e: T): boolean {
    const i = e.hash(this.seed) & this.mask;
    let prev: T | null = null;
    for (let c = this.buckets[i]; c !== null; prev = c, c = c.hnext) {
      if (c !== e) continue;
      if (prev === null) this.buckets[i] = c.hnext; else prev.hnext = c.hnext;
      c.hnext = null;
      this.size--;
      return true;
    }
    return false;
  }

  private grow(): void {
    const old = this.buckets;
    const n = old.length * 2;
    this.buckets = new Array<T | null>(n).fill(null);
    this.mask = n - 1;
    for (let i = 0; i < old.length; i++) {
      for (let e = old[i]; e !== null;) {
        const next: T | null = e.hnext;
        const j = e.hash(this.seed) & this.mask;
        e.hnext = this.buckets[j];
        this.buckets[j] = e;
        e = next;
      }
    }
  }
}
