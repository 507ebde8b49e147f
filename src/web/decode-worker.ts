import { decodeCompressedImage } from '../client/images.js';
import type { DecodeJob, DecodeReply } from './decode-messages.js';

/*
 * The viewer's decoding worker (a second esbuild entry, dist/web/decode-worker.js): compressed
 * images (QUIC, LZ, LZ4, JPEG) decoded by the very decoders the page and the Node client use, off
 * the page's main thread, so that keys, the pointer and sound scheduling do not wait behind a
 * full-screen photo. Jobs are answered in the order they came; the pixels go back transferred.
 */

/** The pixels' own ArrayBuffer when they fill it (a fresh decode does), else a copy of them. */
function ownBuffer(data: Uint8Array): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer)
    return data.buffer;
  return data.slice().buffer;
}

function decode(job: DecodeJob): DecodeReply {
  try {
    const img = decodeCompressedImage(job, Buffer.from(job.bytes), { maxPixels: job.maxPixels });
    const pixels = ownBuffer(img.data);
    return { id: job.id, ok: true, width: img.width, height: img.height, stride: img.stride, pixels, ms: 0 };
  } catch (err) {
    // A bad image is the server's fault, reported to the page, which counts and logs it as it would its own.
    return { id: job.id, ok: false, message: err instanceof Error ? err.message : String(err), ms: 0 };
  }
}

self.onmessage = (ev: MessageEvent<DecodeJob>) => {
  const t0 = performance.now();
  const reply = decode(ev.data);
  reply.ms = performance.now() - t0;
  self.postMessage(reply, { transfer: reply.ok ? [reply.pixels] : [] });
};
