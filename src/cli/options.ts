import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/** Parsers for commander options: each throws InvalidArgumentError with a message for the user. */

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return n;
}

export function parseSize(value: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected WIDTHxHEIGHT, e.g. 1280x800');
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (width < 64 || height < 64 || width > 8192 || height > 8192)
    throw new InvalidArgumentError('each side must be between 64 and 8192 pixels');
  return { width, height };
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function parseNonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

/** ":N" or "N" -> N (a local X display number). */
export function parseDisplayNumber(value: string): number {
  const m = /^:?(\d{1,5})$/.exec(value.trim());
  if (!m || Number(m[1]) > 65535) throw new InvalidArgumentError('expected a local display such as :5');
  return Number(m[1]);
}

export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number > 0');
  return n;
}

/** --keepalive: "off", or IDLE,INTERVAL,COUNT in seconds, seconds and probes (e.g. 30,10,3). */
export function parseKeepAlive(value: string): { idleS: number; intervalS: number; count: number } | false {
  if (value === 'off') return false;
  const parts = value.split(',').map(Number);
  if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n > 0)) {
    throw new InvalidArgumentError('expected off or IDLE,INTERVAL,COUNT (whole numbers > 0, e.g. 30,10,3)');
  }
  const [idleS, intervalS, count] = parts as [number, number, number];
  return { idleS, intervalS, count };
}

export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export interface PasswordSources {
  password?: string | undefined;
  passwordFile?: string | undefined;
  env?: string | undefined;
}

/**
 * --password, --password-file or $SPICE_PASSWORD, in that order of precedence; giving both
 * flags is an error. A password file holds the password on its first line.
 */
export function resolvePassword(p: PasswordSources): string | undefined {
  if (p.password !== undefined && p.passwordFile !== undefined)
    throw new Error('give either --password or --password-file, not both');
  if (p.passwordFile !== undefined) {
    const text = readFileSync(p.passwordFile, 'utf8');
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line.length === 0) throw new Error(`password file ${p.passwordFile} is empty`);
    return line;
  }
  if (p.password !== undefined) return p.password;
  if (p.env !== undefined && p.env.length > 0) return p.env;
  return undefined;
}

/** A byte count: a whole number, optionally followed by K, M or G (binary units, KiB/MiB/GiB too). */
export function parseByteSize(value: string): number {
  const m = /^(\d+)\s*(k|m|g)?(i?b)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a size such as 16M or 65536, not "${value}"`);
  const unit = { k: 1 << 10, m: 1 << 20, g: 1 << 30 }[(m[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InvalidArgumentError(`size "${value}" out of range`);
  return bytes;
}
