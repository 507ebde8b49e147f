/**
 * A small levelled logger. Lines go to stderr as `time level [scope] message`; the scope names the
 * peer and channel so a failing connection can be found in a busy log.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

const order: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

export interface LogRecord {
  level: LogLevel;
  scope: string;
  message: string;
}

export type LogSink = (record: LogRecord) => void;

export class Logger {
  constructor(
    private readonly threshold: LogLevel,
    private readonly sink: LogSink,
    readonly scope = '',
  ) {}

  child(scope: string): Logger {
    return new Logger(this.threshold, this.sink, this.scope ? `${this.scope} ${scope}` : scope);
  }

  enabled(level: LogLevel): boolean {
    return order[level] <= order[this.threshold];
  }

  log(level: LogLevel, message: string): void {
    if (this.enabled(level)) this.sink({ level, scope: this.scope, message });
  }

  error(message: string): void {
    this.log('error', message);
  }

  warn(message: string): void {
    this.log('warn', message);
  }

  info(message: string): void {
    this.log('info', message);
  }

  debug(message: string): void {
    this.log('debug', message);
  }

  trace(message: string): void {
    this.log('trace', message);
  }
}

export function isLogLevel(s: string): s is LogLevel {
  return s in order;
}

export function stderrSink(record: LogRecord): void {
  const time = new Date().toISOString().slice(11, 23);
  const scope = record.scope ? ` [${record.scope}]` : '';
  process.stderr.write(`${time} ${record.level.padEnd(5)}${scope} ${record.message}\n`);
}

/**
 * `--log-format json`: one JSON object a line on stderr (time as ISO 8601, level, scope, message),
 * for log collectors that would otherwise have to parse the text format.
 */
export function jsonLine(record: LogRecord, now: Date = new Date()): string {
  return JSON.stringify({ time: now.toISOString(), level: record.level, scope: record.scope, message: record.message });
}

export function jsonStderrSink(record: LogRecord): void {
  process.stderr.write(jsonLine(record) + '\n');
}

/** A logger that keeps records in memory (tests assert on log lines). */
export function memoryLogger(level: LogLevel = 'debug'): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: new Logger(level, (r) => records.push(r)), records };
}

export const silentLogger = new Logger('error', () => {});

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
