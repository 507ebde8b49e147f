import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordingFormatError } from './bytes.js';

/*
 * The start of a spiced recording, uncompressed so that `head -c` or a file-type sniffer can read
 * it without inflating anything:
 *
 *   offset size
 *   0      8    magic 89 53 50 49 43 45 44 0A ("\x89SPICED\n": the high byte catches 7-bit
 *               transfers, the newline catches newline conversion, as in PNG)
 *   8      1    major version (1): a reader rejects any other major version
 *   9      1    minor version (0): additions old readers can skip (new record tags)
 *   10     1    body compression: 1 = gzip, 2 = brotli (what the recorder writes)
 *   11     1    reserved, 0
 *   12     4    header length N, u32 little-endian, at most 1 MiB
 *   16     N    header: a UTF-8 JSON object (RecordingHeader)
 *   16+N   ...  body: the records (records.ts) as one gzip member or one brotli stream, flushed
 *               periodically so that a reader can decode all but the last moments of a file whose
 *               writer died
 */

const MAGIC = Buffer.from([0x89, 0x53, 0x50, 0x49, 0x43, 0x45, 0x44, 0x0a]);
export const FORMAT_MAJOR = 1;
export const FORMAT_MINOR = 0;
/** Body compression codes (preamble byte 10). */
export const Compression = { gzip: 1, brotli: 2 } as const;
export type BodyCompression = keyof typeof Compression;
export const PREAMBLE_SIZE = 16;
const MAX_HEADER_SIZE = 1 << 20;

/** What the caller says about a recording when it starts one. */
export interface RecordingMeta {
  /** The source that produced the session ("demo", "x11 :1", "synthetic office seed 1", ...). */
  source: string;
  /** Screen size, when known up front. */
  width?: number;
  height?: number;
  /** Free-form notes (how the recording was made). */
  description?: string;
}

/** The header as stored: the caller's meta plus what the recorder adds. */
export interface RecordingHeader extends RecordingMeta {
  tool: string;
  /** spiced's package version. */
  version: string;
  /** ISO 8601 time the recording was started. */
  created: string;
  /** Format version as "major.minor" (also in the preamble; here for people reading the JSON). */
  format: string;
}

export function encodePreamble(header: RecordingHeader, compression: BodyCompression = 'brotli'): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > MAX_HEADER_SIZE)
    throw new RangeError(`recording header is ${json.length} bytes, at most ${MAX_HEADER_SIZE} allowed`);
  const fixed = Buffer.alloc(PREAMBLE_SIZE);
  MAGIC.copy(fixed, 0);
  fixed[8] = FORMAT_MAJOR;
  fixed[9] = FORMAT_MINOR;
  fixed[10] = Compression[compression];
  fixed.writeUInt32LE(json.length, 12);
  return Buffer.concat([fixed, json]);
}

export function hasSpicedMagic(head: Buffer): boolean {
  return head.length >= MAGIC.length && head.subarray(0, MAGIC.length).equals(MAGIC);
}

export interface ParsedPreamble {
  major: number;
  minor: number;
  compression: BodyCompression;
  headerLength: number;
}

/** Check the fixed 16 bytes; `file` names the recording in errors. */
export function parsePreamble(fixed: Buffer, file: string): ParsedPreamble {
  if (fixed.length < PREAMBLE_SIZE) {
    throw new RecordingFormatError(
      `${file}: ${fixed.length} bytes, too short for a spiced recording (the fixed header alone is ${PREAMBLE_SIZE})`,
    );
  }
  if (!hasSpicedMagic(fixed))
    throw new RecordingFormatError(
      `${file}: not a spiced recording (bad magic ${fixed.subarray(0, 8).toString('hex')})`,
    );
  const major = fixed[8] as number;
  const minor = fixed[9] as number;
  if (major !== FORMAT_MAJOR) {
    throw new RecordingFormatError(
      `${file}: spiced recording format ${major}.${minor} is not supported ` +
        `(this reader understands ${FORMAT_MAJOR}.x${major > FORMAT_MAJOR ? '; it was written by a newer spiced' : ''})`,
    );
  }
  const code = fixed[10] as number;
  const compression = code === Compression.gzip ? 'gzip' : code === Compression.brotli ? 'brotli' : undefined;
  if (!compression) throw new RecordingFormatError(`${file}: unknown body compression ${code} (1 = gzip, 2 = brotli)`);
  const headerLength = fixed.readUInt32LE(12);
  if (headerLength > MAX_HEADER_SIZE)
    throw new RecordingFormatError(`${file}: header length ${headerLength} exceeds ${MAX_HEADER_SIZE}`);
  return { major, minor, compression, headerLength };
}

export function parseHeaderJson(json: Buffer, file: string): RecordingHeader {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw new RecordingFormatError(
      `${file}: header at offset ${PREAMBLE_SIZE} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RecordingFormatError(`${file}: header is not a JSON object`);
  const h = value as Record<string, unknown>;
  if (typeof h['source'] !== 'string' || typeof h['tool'] !== 'string')
    throw new RecordingFormatError(`${file}: header lacks "source" or "tool"`);
  return value as RecordingHeader;
}

let cachedVersion: string | undefined;

/** spiced's version from package.json, found by walking up from this module (src/ or dist/src/). */
export function spicedVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'spiced' && typeof pkg.version === 'string') return (cachedVersion = pkg.version);
    }
    dir = dirname(dir);
  }
  return (cachedVersion = 'unknown');
}
