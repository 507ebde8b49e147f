/**
 * Entries remembered per viewer whatever capacity it announces: the capacity is the viewer's
 * choice (up to 2^40 pixels here), and tiny images would otherwise add an entry (a ~60-byte key)
 * for every distinct image sent, for the life of the connection.
 */
const MAX_CACHE_ENTRIES = 16384;

/**
 * The server's model of one viewer's pixmap cache. spice-gtk never evicts on its own: the server
 * must keep the total under the size the viewer announced in DISPLAY_INIT (in pixels) and free
 * entries with INVAL_LIST. Least recently used entries go first.
 */
export class ViewerImageCache {
  private readonly entries = new Map<string, { id: bigint; pixels: number }>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly capacityPixels: number,
    readonly maxEntries = MAX_CACHE_ENTRIES,
  ) {}

  /** The id the viewer caches this content under, if any (and mark it recently used). */
  lookup(key: string): bigint | undefined {
    const e = this.entries.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits++;
    return e.id;
  }

  /** Whether an image of this size may enter the cache at all. */
  accepts(pixels: number): boolean {
    return pixels > 0 && pixels <= this.capacityPixels / 8;
  }

  /** Record that the viewer now caches `key` as `id`; returns the ids it must drop first. */
  insert(key: string, id: bigint, pixels: number): bigint[] {
    const evicted: bigint[] = [];
    for (const [k, e] of this.entries) {
      if (this.used + pixels <= this.capacityPixels && this.entries.size < this.maxEntries) break;
      this.entries.delete(k);
      this.used -= e.pixels;
      evicted.push(e.id);
    }
    this.entries.set(key, { id, pixels });
    this.used += pixels;
    return evicted;
  }

  get size(): number {
    return this.entries.size;
  }

  get usedPixels(): number {
    return this.used;
  }
}
