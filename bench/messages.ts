/**
 * Message codec benchmark: how fast the server builds the messages it sends most, and how fast the
 * frame decoder splits a received byte stream into messages.
 *
 *   npm run build && node dist/bench/messages.js
 *
 * Encoders: each iteration builds the message body and its 6-byte mini data header, exactly what
 * a channel client does per message (ChannelClient.send). MB/s counts the message bytes produced
 * (header + every iovec); for DRAW_COPY the 64 KiB pixel payload is referenced, not copied, so its
 * MB/s is large by construction and messages/s is the figure that matters.
 *
 * Decoder: a stream of mixed messages (mini headers) fed to FrameDecoder in 1448-byte chunks (one
 * TCP segment's payload at MTU 1500) and in 64 KiB chunks; MB/s counts stream bytes.
 *
 * Every figure is the median of several timed runs after warm-up runs, one core, wall time.
 */
import { medianTime } from './common.js';
import { pathToFileURL } from 'node:url';
import { spiceCursor } from '../src/channels/cursor.js';
import { allocImage } from '../src/display/pixels.js';
import { encodeImagePayload, imageParts, nextImageId } from '../src/display/wire-image.js';
import { MouseMode } from '../src/protocol/constants.js';
import { encodeCursorSet } from '../src/protocol/cursor.js';
import {
  encodeCopyBits,
  encodeDrawCopy,
  encodeDrawFill,
  encodeMark,
  type DisplayBase,
} from '../src/protocol/display.js';
import { encodeDataHeader, FrameDecoder } from '../src/protocol/header.js';
import { encodeMainInit } from '../src/protocol/main.js';
import { messageSize, type OutMessage } from '../src/protocol/message.js';

export interface MessageBenchResult {
  suite: 'messages';
  /** 'encode' or 'decode'. */
  kind: 'encode' | 'decode';
  name: string;
  /** Bytes per message (for the decoder: the stream's average). */
  bytes: number;
  /** Decoder only: bytes in the whole stream. */
  streamBytes?: number;
  messagesPerSecond: number;
  MBps: number;
  msMedian: number;
  runs: number;
}

const WARMUP_RUNS = 3;
const MEASURED_RUNS = 9;
/** Encoder iterations per timed run: enough for tens of milliseconds, so timer resolution is moot. */
const ENCODE_ITERATIONS = 100_000;
const TCP_SEGMENT = 1448;
const BIG_CHUNK = 64 << 10;
/** Rounds of the mixed message sequence in the decoder's stream (~21 MB). */
const DECODE_ROUNDS = 300;

const timeMedian = (fn: () => void): number => medianTime(fn, WARMUP_RUNS, MEASURED_RUNS);

const BASE: DisplayBase = {
  surfaceId: 0,
  box: { top: 100, left: 200, bottom: 228, right: 328 },
  clip: { type: 'none' },
};
/** 128x128 32-bit pixels: 64 KiB, the payload DRAW_COPY references. */
const TILE = allocImage(128, 128);
const CURSOR_SHAPE = { id: 7, image: allocImage(32, 32), hotX: 3, hotY: 4 };

/** The shared payload is encoded once per image (SharedImage); each send adds a descriptor. */
const TILE_PAYLOAD = encodeImagePayload(TILE, 'off');

/** DRAW_COPY as the display channel marshals it per viewer: fresh image id, referenced pixels. */
function drawCopy(): OutMessage {
  const image = imageParts(TILE_PAYLOAD, nextImageId(), 0);
  return encodeDrawCopy(BASE, { top: 0, left: 0, bottom: TILE.height, right: TILE.width }, image);
}

const MAIN_INIT = {
  sessionId: 0x1234,
  displayChannelsHint: 1,
  supportedMouseModes: MouseMode.Server | MouseMode.Client,
  currentMouseMode: MouseMode.Client,
  agentConnected: 0,
  agentTokens: 10,
  multiMediaTime: 123456,
  ramHint: 0,
};

/** The encoders under test, each as the server calls it for one message. */
const ENCODERS: ReadonlyArray<[string, () => OutMessage]> = [
  ['DRAW_FILL', () => encodeDrawFill(BASE, 0x336699)],
  ['COPY_BITS', () => encodeCopyBits(BASE, { x: 10, y: 20 })],
  ['DRAW_COPY 64K', drawCopy],
  ['CURSOR_SET 32x32', () => encodeCursorSet({ x: 10, y: 20 }, true, spiceCursor(CURSOR_SHAPE))],
  ['MAIN_INIT', () => encodeMainInit(MAIN_INIT)],
];

/** Body plus mini header, summed over iovecs (also keeps the optimiser from dropping the work). */
function encodeWithHeader(encode: () => OutMessage): number {
  const m = encode();
  const size = messageSize(m);
  return encodeDataHeader(true, m.type, size, 0n).length + size;
}

function benchEncoder(name: string, encode: () => OutMessage): MessageBenchResult {
  const bytes = encodeWithHeader(encode);
  let sink = 0;
  const ms = timeMedian(() => {
    for (let i = 0; i < ENCODE_ITERATIONS; i++) sink += encodeWithHeader(encode);
  });
  if (sink === 0) throw new Error('messages bench: encoders produced nothing');
  return {
    suite: 'messages',
    kind: 'encode',
    name,
    bytes,
    messagesPerSecond: ENCODE_ITERATIONS / (ms / 1000),
    MBps: (ENCODE_ITERATIONS * bytes) / 1e6 / (ms / 1000),
    msMedian: ms,
    runs: MEASURED_RUNS,
  };
}

/** Mini header + body, flattened: what arrives on the wire. */
function wireBytes(m: OutMessage): Buffer[] {
  return [encodeDataHeader(true, m.type, messageSize(m), 0n), ...m.parts];
}

/**
 * A display-heavy mix as a viewer receives it: small draws, one 64 KiB image, a cursor shape and
 * the odd main message, per round.
 */
function mixedStream(): { stream: Buffer; messages: number; types: Map<number, number> } {
  const round = [
    encodeDrawFill(BASE, 1),
    encodeCopyBits(BASE, { x: 0, y: 0 }),
    encodeDrawFill(BASE, 2),
    drawCopy(),
    encodeMark(),
    encodeCursorSet({ x: 1, y: 2 }, true, spiceCursor(CURSOR_SHAPE)),
    encodeMainInit(MAIN_INIT),
    encodeDrawFill(BASE, 3),
  ];
  const parts: Buffer[] = [];
  const types = new Map<number, number>();
  for (let r = 0; r < DECODE_ROUNDS; r++) {
    for (const m of round) {
      parts.push(...wireBytes(m));
      types.set(m.type, (types.get(m.type) ?? 0) + 1);
    }
  }
  return { stream: Buffer.concat(parts), messages: DECODE_ROUNDS * round.length, types };
}

function chunked(stream: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < stream.length; o += size) out.push(stream.subarray(o, Math.min(stream.length, o + size)));
  return out;
}

/** Push every chunk and pull every frame as it completes, as ChannelClient.onData does. */
function decodeAll(chunks: readonly Buffer[], types?: Map<number, number>): number {
  const decoder = new FrameDecoder(true, 64 << 20);
  let frames = 0;
  for (const c of chunks) {
    decoder.push(c);
    for (let f = decoder.next(); f; f = decoder.next()) {
      frames++;
      if (types) types.set(f.type, (types.get(f.type) ?? 0) - 1);
    }
  }
  return frames;
}

function benchDecoder(name: string, chunkSize: number, mix: ReturnType<typeof mixedStream>): MessageBenchResult {
  const chunks = chunked(mix.stream, chunkSize);
  // A decoder that loses or misreads frames is not worth timing: check counts per type first.
  const remaining = new Map(mix.types);
  const frames = decodeAll(chunks, remaining);
  if (frames !== mix.messages || [...remaining.values()].some((n) => n !== 0)) {
    throw new Error(`messages bench: decoded ${frames} of ${mix.messages} messages (${name})`);
  }
  const ms = timeMedian(() => void decodeAll(chunks));
  return {
    suite: 'messages',
    kind: 'decode',
    name,
    bytes: Math.round(mix.stream.length / mix.messages),
    streamBytes: mix.stream.length,
    messagesPerSecond: mix.messages / (ms / 1000),
    MBps: mix.stream.length / 1e6 / (ms / 1000),
    msMedian: ms,
    runs: MEASURED_RUNS,
  };
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runMessageBench(): Promise<MessageBenchResult[]> {
  const results: MessageBenchResult[] = [];
  for (const [name, encode] of ENCODERS) {
    results.push(benchEncoder(name, encode));
    // Yield between cases so a caller's timers and I/O are not starved for the whole run.
    await yieldToLoop();
  }
  const mix = mixedStream();
  results.push(benchDecoder(`mixed, ${TCP_SEGMENT} B chunks`, TCP_SEGMENT, mix));
  await yieldToLoop();
  results.push(benchDecoder(`mixed, 64 KiB chunks`, BIG_CHUNK, mix));
  return results;
}

export function formatMessageResults(results: MessageBenchResult[]): string {
  const lines = [
    `SPICE messages, one core, median of ${MEASURED_RUNS} runs after ${WARMUP_RUNS} warm-ups; MB = 10^6 bytes`,
    `encode: body + mini header per message (DRAW_COPY references its 64 KiB payload, no copy)`,
    `${'encode'.padEnd(28)}${'bytes'.padStart(8)}${'msgs/s'.padStart(14)}${'MB/s'.padStart(12)}`,
  ];
  const row = (r: MessageBenchResult): string =>
    `${r.name.padEnd(28)}${String(r.bytes).padStart(8)}${Math.round(r.messagesPerSecond).toLocaleString('en-US').padStart(14)}${r.MBps.toFixed(0).padStart(12)}`;
  for (const r of results.filter((x) => x.kind === 'encode')) lines.push(row(r));
  const decoded = results.filter((x) => x.kind === 'decode');
  if (decoded.length > 0) {
    const mb = ((decoded[0]!.streamBytes ?? 0) / 1e6).toFixed(1);
    lines.push(
      `decode: FrameDecoder over a ${mb} MB stream of mixed messages (per round: 3 fills, copy bits, 64 KiB DRAW_COPY, mark, cursor set, main init)`,
    );
    lines.push(`${'decode'.padEnd(28)}${'avg B'.padStart(8)}${'msgs/s'.padStart(14)}${'MB/s'.padStart(12)}`);
    for (const r of decoded) lines.push(row(r));
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  console.log(formatMessageResults(await runMessageBench()));
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
