/* What the page and its decoding worker (decode-worker.ts) tell each other. */

/** One compressed image to decode: its type and size (the descriptor's) and its bytes, transferred. */
export interface DecodeJob {
  id: number;
  type: number;
  width: number;
  height: number;
  /** The target surface's pixels: no image bigger than it is decoded (decode-limits.ts). */
  maxPixels: number;
  bytes: ArrayBuffer;
}

/** The job's pixels (BGRX, `stride` bytes a row, transferred) or why it did not decode. */
export type DecodeReply =
  | { id: number; ok: true; width: number; height: number; stride: number; pixels: ArrayBuffer; ms: number }
  | { id: number; ok: false; message: string; ms: number };
