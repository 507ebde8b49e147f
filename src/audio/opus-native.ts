import { createRequire } from 'node:module';

/*
 * Typed access to the libopus WASM build shipped inside the `opusscript` package.
 *
 * Why not the package's own `OpusScript` class: in opusscript 0.1.1 it keeps views such as
 * `HEAPU16.subarray(pointer, ...)`, i.e. it uses a *byte* address as a 16-bit element index, so
 * its PCM scratch buffers live at twice the malloc'd address, in memory that belongs to nobody.
 * With a third or fourth instance alive those buffers overlap another instance's codec state and
 * libopus aborts (seen here: "assertion failed ... src/opus_decoder.c, line 492" with 40 instances).
 * It also caches the views once, so they go stale when the WASM memory grows. We therefore drive
 * the same native `OpusScriptHandler` ourselves, with correctly addressed buffers and heap views
 * re-read on every call.
 *
 * Native calling convention (opusscript's src/opusscript_encoder.cpp, checked by experiment):
 *   _encode(in, n, out, frameSize): `in` holds PCM "expanded" to one byte per 16-bit slot
 *     (slot 2k = low byte, slot 2k+1 = high byte of sample k); the native side compacts the first
 *     `n` samples in place, then calls opus_encode(frameSize) writing at most MAX_PACKET_BYTES to `out`.
 *   _decode(in, bytes, out): opus_decode into an internal buffer, then writes each decoded sample
 *     expanded the same way (two 16-bit slots per sample) to `out`; returns samples per channel.
 *   _encoder_ctl / _decoder_ctl(request, int arg): opus_*_ctl with one integer argument.
 */

export interface NativeOpusHandler {
  _encode(inputPtr: number, samples: number, outputPtr: number, frameSize: number): number;
  _decode(inputPtr: number, bytes: number, outputPtr: number): number;
  _encoder_ctl(request: number, arg: number): number;
  _decoder_ctl(request: number, arg: number): number;
}

interface NativeOpusHandlerClass {
  new (sampleRate: number, channels: number, application: number): NativeOpusHandler;
  destroy_handler(handler: NativeOpusHandler): void;
}

interface NativeOpusModule {
  readonly HEAPU8: Uint8Array;
  readonly HEAPU16: Uint16Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  readonly OpusScriptHandler: NativeOpusHandlerClass;
}

interface EmscriptenOptions {
  printErr(text: string): void;
  onAbort(what: unknown): void;
}

/** libopus limits as compiled into opusscript (MAX_PACKET_SIZE 1276*3, MAX_FRAME_SIZE 960*6). */
export const MAX_PACKET_BYTES = 1276 * 3;
export const MAX_DECODED_SAMPLES_PER_CHANNEL = 960 * 6;

/** opus_defines.h error codes. */
const OPUS_ERRORS: Record<number, string> = {
  [-1]: 'bad argument',
  [-2]: 'buffer too small',
  [-3]: 'internal error',
  [-4]: 'invalid packet',
  [-5]: 'unimplemented',
  [-6]: 'invalid state',
  [-7]: 'memory allocation failed',
};

export function opusErrorText(code: number): string {
  return `${OPUS_ERRORS[code] ?? 'unknown error'} (${code})`;
}

/** One instantiated WASM module plus what it printed before an abort, for error messages. */
export class OpusRuntime {
  private abortReason: string | null = null;
  private readonly recentStderr: string[] = [];
  readonly native: NativeOpusModule;

  constructor() {
    const factory = loadFactory();
    const options: EmscriptenOptions = {
      printErr: (text) => this.rememberStderr(text),
      onAbort: (what) => {
        this.abortReason = [String(what), ...this.recentStderr].filter((s) => s !== '').join('; ');
      },
    };
    const instance: unknown = factory(options);
    if (!isNativeOpusModule(instance)) {
      throw new Error('opusscript WASM build did not return the expected module (HEAPU8, _malloc, OpusScriptHandler)');
    }
    this.native = instance;
  }

  /** After an abort the WASM instance's state is undefined; refuse to touch it again. */
  assertUsable(): void {
    if (this.abortReason !== null) throw new Error(`libopus WASM module aborted earlier: ${this.abortReason}`);
  }

  get aborted(): boolean {
    return this.abortReason !== null;
  }

  /** Keeps the last lines for the abort message and still prints them, as Emscripten would. */
  private rememberStderr(text: string): void {
    console.warn(`libopus (WASM): ${text}`);
    this.recentStderr.push(text);
    if (this.recentStderr.length > 4) this.recentStderr.shift();
  }
}

let shared: OpusRuntime | null = null;

/** The process-wide runtime, replaced by a fresh one if the previous instance aborted. */
export function opusRuntime(): OpusRuntime {
  if (shared === null || shared.aborted) shared = new OpusRuntime();
  return shared;
}

type Factory = (options: EmscriptenOptions) => unknown;

function loadFactory(): Factory {
  const require = createRequire(import.meta.url);
  const loaded: unknown = require('opusscript/build/opusscript_native_wasm.js');
  if (typeof loaded !== 'function') {
    throw new Error('opusscript/build/opusscript_native_wasm.js did not export a module factory');
  }
  return (options) => {
    const result: unknown = Reflect.apply(loaded, undefined, [options]);
    return result;
  };
}

function isNativeOpusModule(value: unknown): value is NativeOpusModule {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  const handler = m['OpusScriptHandler'];
  return (
    m['HEAPU8'] instanceof Uint8Array &&
    m['HEAPU16'] instanceof Uint16Array &&
    typeof m['_malloc'] === 'function' &&
    typeof m['_free'] === 'function' &&
    typeof handler === 'function' &&
    typeof (handler as unknown as Record<string, unknown>)['destroy_handler'] === 'function'
  );
}

/**
 * Copies interleaved samples into native memory in the expanded one-byte-per-slot layout that
 * `_encode` compacts. `ptr` must be 2-byte aligned (malloc returns 8-byte aligned blocks).
 */
export function writeExpandedPcm(native: NativeOpusModule, ptr: number, samples: Int16Array): void {
  const slots = native.HEAPU16;
  let j = ptr >>> 1;
  for (let i = 0; i < samples.length; i++, j += 2) {
    const v = samples[i]! & 0xffff;
    slots[j] = v & 0xff;
    slots[j + 1] = v >>> 8;
  }
}

/** Reads `count` samples that `_decode` wrote in the expanded layout. */
export function readExpandedPcm(native: NativeOpusModule, ptr: number, count: number): Int16Array {
  const slots = native.HEAPU16;
  const out = new Int16Array(count);
  let j = ptr >>> 1;
  for (let i = 0; i < count; i++, j += 2) out[i] = (slots[j]! & 0xff) | (slots[j + 1]! << 8);
  return out;
}
