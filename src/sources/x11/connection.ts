/*
 * An X11 protocol client, spoken directly rather than through the npm package `x11`
 * (sidorares/node-x11). Why:
 *  - spiced needs about 25 requests from the core protocol and six extensions; each is a few
 *    lines of typed encoder/decoder here, testable without a server (codec.ts is sans-IO).
 *  - node-x11 is untyped callback-style JavaScript (no .d.ts), so every call site would be `any`
 *    under this project's strict settings, and it is not a dependency (we may not add one).
 *  - its extension modules are the parts we need and the weakest: the XFIXES module (lib/ext/
 *    fixes.js) has no SelectCursorInput/GetCursorImage and registers a DamageNotify parser at
 *    XFIXES' own event base; its MIT-SHM module needs a caller-supplied SysV provider anyway.
 *  - owning the connection lets capture pipeline many GetImage requests and keep reply buffers as
 *    zero-copy pixel images, and lets us report "X server :N went away" precisely.
 * Cost: we maintain the wire layouts ourselves; each encoder carries its layout as a comment.
 *
 * BIG-REQUESTS is not enabled: it only lifts the limit on request size (262140 bytes without it),
 * and every request spiced sends is under 64 bytes. Large transfers are replies (GetImage,
 * FetchRegion, GetCursorImage), whose 32-bit length field has no such limit.
 */
import { createConnection, type Socket } from 'node:net';
import { XStreamDecoder, expandSequence, type XFrame } from './codec.js';
import { parseDisplayName, socketTargets, type DisplayAddress, type SocketTarget } from './display-name.js';
import { XConnectionLost, XError, coreErrorName } from './errors.js';
import { decodeSetupResponse, encodeSetupRequest, type ScreenInfo, type ServerInfo } from './setup.js';
import { encodeRequest, paddedString } from './wire.js';
import { loadCredentials, defaultXauthorityPath } from './xauth.js';

export interface ExtensionInfo {
  readonly name: string;
  readonly majorOpcode: number;
  readonly firstEvent: number;
  readonly firstError: number;
}

export interface XEvent {
  /** Event code without the SendEvent bit. */
  readonly code: number;
  readonly sendEvent: boolean;
  /** The raw 32 (or more, for GenericEvent) bytes. */
  readonly data: Buffer;
}

export interface ConnectOptions {
  /** Xauthority file to read the cookie from; default $XAUTHORITY or ~/.Xauthority. */
  readonly xauthority?: string | null;
  readonly timeoutMs?: number;
}

interface Pending {
  readonly seq: number;
  readonly label: string;
  /** Null for checked void requests: they resolve when a later packet proves no error came. */
  readonly decode: ((reply: Buffer) => unknown) | null;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

const X_GET_INPUT_FOCUS = 43;
const X_QUERY_EXTENSION = 98;
const LABEL_RING = 1024;

export class XConnection {
  private seq = 0;
  private readonly pending: Pending[] = [];
  private readonly extensions = new Map<string, Promise<ExtensionInfo | null>>();
  /** Names of extension errors by code, filled as extensions are queried. */
  private readonly errorNames = new Map<number, string>();
  private readonly labels: string[] = new Array<string>(LABEL_RING).fill('');
  private readonly eventHandlers: ((ev: XEvent) => void)[] = [];
  private readonly closeHandlers: ((err: XConnectionLost, expected: boolean) => void)[] = [];
  private unhandledErrorHandler: (err: Error) => void = () => undefined;
  private nextId = 0;
  private readonly idShift: number;
  private closing = false;
  private lost: XConnectionLost | null = null;
  private socketError: Error | null = null;
  private corked = false;

  private constructor(
    private readonly socket: Socket,
    private readonly decoder: XStreamDecoder,
    readonly info: ServerInfo,
    readonly address: DisplayAddress,
  ) {
    this.idShift = lowestSetBit(info.resourceIdMask);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.socketError = err;
    });
    socket.on('close', () => this.onSocketClose());
  }

  static async connect(displayName: string, opts: ConnectOptions = {}): Promise<XConnection> {
    const address = parseDisplayName(displayName);
    const auth = loadCredentials(address, opts.xauthority === undefined ? defaultXauthorityPath() : opts.xauthority);
    const socket = await openSocket(address, socketTargets(address), opts.timeoutMs ?? 5000);
    const decoder = new XStreamDecoder();
    try {
      const setup = await readSetup(socket, decoder, encodeSetupRequest(auth), opts.timeoutMs ?? 5000);
      const info = decodeSetupResponse(setup);
      if (info.screens.length <= address.screen)
        throw new Error(`X display ${displayName} has no screen ${address.screen}`);
      const conn = new XConnection(socket, decoder, info, address);
      conn.drain(); // packets that arrived together with the setup response
      return conn;
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  get screen(): ScreenInfo {
    return this.info.screens[this.address.screen]!;
  }

  get isClosed(): boolean {
    return this.closing || this.lost !== null;
  }

  onEvent(handler: (ev: XEvent) => void): void {
    this.eventHandlers.push(handler);
  }

  /** Called once when the connection ends; `expected` is true after close(). */
  onClose(handler: (err: XConnectionLost, expected: boolean) => void): void {
    this.closeHandlers.push(handler);
  }

  /** Errors for unchecked requests, and exceptions thrown by event handlers. */
  onUnhandledError(handler: (err: Error) => void): void {
    this.unhandledErrorHandler = handler;
  }

  allocId(): number {
    const id = this.nextId++ << this.idShift;
    if ((id & ~this.info.resourceIdMask) !== 0 || id < 0) throw new Error('X resource ids exhausted');
    return (this.info.resourceIdBase | id) >>> 0;
  }

  /** Send a request without a reply; its errors go to the unhandled-error handler. */
  send(req: Buffer, label: string): number {
    if (this.lost) throw this.lost;
    if (this.closing) throw new XConnectionLost(`X connection to ${this.address.name} is closed`);
    const seq = ++this.seq;
    this.labels[seq % LABEL_RING] = label;
    if (!this.corked) {
      // Batch the requests issued in one tick into one write.
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(req);
    return seq;
  }

  /** Send a request and decode its reply. */
  request<T>(req: Buffer, label: string, decode: (reply: Buffer) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const seq = this.send(req, label);
      this.pending.push({ seq, label, decode, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /** Send a void request and wait until the server has processed it, failing on its error. */
  checked(req: Buffer, label: string): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const seq = this.send(req, label);
      this.pending.push({ seq, label, decode: null, resolve: () => resolve(), reject });
    });
    void this.sync().catch(() => undefined); // the reply only marks progress; `done` carries the outcome
    return done;
  }

  /**
   * A round trip (GetInputFocus): everything sent before has been processed when it resolves.
   * GetInputFocus: opcode 43, unused u8, length 1.
   */
  async sync(): Promise<void> {
    await this.request(encodeRequest(X_GET_INPUT_FOCUS, 0), 'GetInputFocus', () => undefined);
  }

  /**
   * QueryExtension, cached. Returns null when the server lacks the extension.
   * Request: opcode 98, unused u8, length 2+(n+p)/4, name length u16, unused u16, name (padded).
   * Reply: present u8 @8, major-opcode u8 @9, first-event u8 @10, first-error u8 @11.
   */
  extension(name: string): Promise<ExtensionInfo | null> {
    let known = this.extensions.get(name);
    if (!known) {
      const req = encodeRequest(X_QUERY_EXTENSION, 0, (w) => {
        w.u16(name.length).u16(0);
        paddedString(w, name);
      });
      known = this.request(req, `QueryExtension(${name})`, (r): ExtensionInfo | null =>
        r[8] === 0 ? null : { name, majorOpcode: r[9]!, firstEvent: r[10]!, firstError: r[11]! },
      );
      this.extensions.set(name, known);
    }
    return known;
  }

  /** Give extension error codes readable names in messages. */
  nameErrors(ext: ExtensionInfo, names: readonly string[]): void {
    names.forEach((n, i) => this.errorNames.set(ext.firstError + i, `${ext.name}:${n}`));
  }

  /** Close the connection; pending requests fail with XConnectionLost. */
  close(): void {
    if (this.closing || this.lost) return;
    this.closing = true;
    this.socket.end();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    this.drain();
  }

  private drain(): void {
    for (let frame = this.decoder.next(); frame; frame = this.decoder.next()) this.dispatch(frame);
  }

  private dispatch(frame: XFrame): void {
    if (frame.kind === 'event') {
      this.deliverEvent({ code: frame.code, sendEvent: frame.sendEvent, data: frame.data });
      return;
    }
    const seq = expandSequence(frame.seq16, this.seq);
    this.settleBefore(seq);
    const head = this.pending[0];
    const mine = head !== undefined && head.seq === seq ? head : undefined;
    if (mine) this.pending.shift();
    if (frame.kind === 'reply') {
      if (!mine || !mine.decode) {
        this.unhandledErrorHandler(new Error(`unexpected X reply for sequence ${seq}`));
        if (mine) mine.resolve(undefined);
        return;
      }
      try {
        mine.resolve(mine.decode(frame.data));
      } catch (err) {
        mine.reject(err instanceof Error ? err : new Error(String(err)));
      }
      return;
    }
    const label = mine?.label ?? (this.labels[seq % LABEL_RING] || 'request');
    const name = coreErrorName(frame.code) ?? this.errorNames.get(frame.code) ?? `error ${frame.code}`;
    const err = new XError(frame.code, name, frame.majorOpcode, frame.minorOpcode, frame.badValue, seq, label);
    if (mine) mine.reject(err);
    else this.unhandledErrorHandler(err);
  }

  /** A packet for `seq` proves that checked void requests before it succeeded. */
  private settleBefore(seq: number): void {
    while (this.pending.length > 0 && this.pending[0]!.seq < seq) {
      const p = this.pending.shift()!;
      if (p.decode === null) p.resolve(undefined);
      else p.reject(new Error(`X server sent no reply to ${p.label} (sequence ${p.seq})`));
    }
  }

  private deliverEvent(ev: XEvent): void {
    for (const h of this.eventHandlers) {
      try {
        h(ev);
      } catch (err) {
        this.unhandledErrorHandler(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private onSocketClose(): void {
    const expected = this.closing;
    const cause = this.socketError ?? undefined;
    const err = expected
      ? new XConnectionLost(`X connection to ${this.address.name} closed`)
      : new XConnectionLost(`X server ${this.address.name} went away${cause ? ` (${cause.message})` : ''}`, { cause });
    this.lost = err;
    for (const p of this.pending.splice(0)) p.reject(err);
    for (const h of this.closeHandlers) h(err, expected);
  }
}

function lowestSetBit(mask: number): number {
  if (mask === 0) throw new Error('X server gave an empty resource-id mask');
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return shift;
}

async function openSocket(addr: DisplayAddress, targets: SocketTarget[], timeoutMs: number): Promise<Socket> {
  const failures: string[] = [];
  for (const target of targets) {
    try {
      return await connectTo(target, timeoutMs);
    } catch (err) {
      failures.push(`${describeTarget(target)}: ${(err as Error).message}`);
    }
  }
  throw new Error(`cannot connect to X server ${addr.name} (${failures.join('; ')})`);
}

function describeTarget(t: SocketTarget): string {
  return 'path' in t ? (t.path.startsWith('\0') ? `@${t.path.slice(1)}` : t.path) : `${t.host}:${t.port}`;
}

function connectTo(target: SocketTarget, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      'path' in target
        ? createConnection({ path: target.path })
        : createConnection({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay?.(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

function readSetup(socket: Socket, decoder: XStreamDecoder, request: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      decoder.push(chunk);
      const setup = decoder.takeSetup();
      if (setup) {
        cleanup();
        resolve(setup);
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new Error(`X connection setup failed: ${err.message}`));
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('X server closed the connection during setup (authorization refused?)'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`X connection setup timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(request);
  });
}
