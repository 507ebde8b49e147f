/**
 * Markers for measuring how long a change takes to reach every viewer: the bench's server draws a
 * 2x2 fill at the top-left corner every MARKER_MS whose colour is a sequence number, and notes the
 * time; viewers note when each fill arrives. Times are CLOCK_MONOTONIC in ms (process.hrtime),
 * which every process on the machine shares.
 */
import { createHash } from 'node:crypto';
import { DisplayMsg } from '../src/protocol/constants.js';
import { decodeDisplayServerMessage } from '../src/protocol/display.js';

export const MARKER_MS = 100;
export const MARKER_RECT = { top: 0, left: 0, bottom: 2, right: 2 };

export function monotonicNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The sequence number of a marker fill, or undefined for any other display message. */
export function markerSeq(type: number, body: Buffer): number | undefined {
  if (type !== DisplayMsg.DrawFill) return undefined;
  const m = decodeDisplayServerMessage(type, body);
  if (m?.kind !== 'drawFill' || m.brush.type !== 'solid') return undefined;
  const b = m.base.box;
  if (
    b.top !== MARKER_RECT.top ||
    b.left !== MARKER_RECT.left ||
    b.bottom !== MARKER_RECT.bottom ||
    b.right !== MARKER_RECT.right
  )
    return undefined;
  return m.brush.color & 0xffffff;
}

/**
 * When each marker reached the last of a group of viewers. A viewer whose queue dropped a marker
 * under a newer one (covered draws are never sent) saw the change when the newer one arrived: every
 * sequence number it skipped counts as arriving then.
 */
export class MarkerArrivals {
  /** seq -> [latest arrival ms, viewers that have it]. */
  readonly bySeq = new Map<number, [number, number]>();

  /** A viewer's tracker: call it with each marker it receives. */
  viewer(): (seq: number) => void {
    let last = -1;
    return (seq) => {
      const now = monotonicNowMs();
      for (let s = last < 0 ? seq : last + 1; s <= seq; s++) {
        const e = this.bySeq.get(s);
        if (e) {
          e[0] = Math.max(e[0], now);
          e[1]++;
        } else {
          this.bySeq.set(s, [now, 1]);
        }
      }
      last = Math.max(last, seq);
    };
  }

  /** The entries, and forget them. */
  drain(): [number, number, number][] {
    const out: [number, number, number][] = [...this.bySeq].map(([s, [t, n]]) => [s, t, n]);
    this.bySeq.clear();
    return out;
  }
}

/** SHA-256 of a 32-bit image's colours (the fourth byte of each pixel does not show, and viewers may differ there). */
export function rgbDigest(data: Buffer): string {
  const copy = Buffer.from(data);
  for (let i = 3; i < copy.length; i += 4) copy[i] = 0;
  return createHash('sha256').update(copy).digest('hex');
}
