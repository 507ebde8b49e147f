import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../util/log.js';
import { WsConduit, type BaseConduit } from '../transport/ws-conduit.js';
import { hostnameOf, isKnownHost } from './host-check.js';
import type { PreAuthSlot } from './pre-auth.js';

export interface WebOptions {
  /** Where spiced's own viewer was built (dist/web, see findViewerDir); undefined = not built. */
  viewerDir: string | undefined;
  /** Where spice-html5's files are (Debian: /usr/share/spice-html5), served under /spice-html5/. */
  html5Dir: string | undefined;
  /** Origins allowed to open WebSockets besides the page's own; '*' allows any. */
  allowOrigins: string[];
  /** Largest WebSocket message a viewer may send. */
  maxMessageSize: number;
  /** The address the server listens on: a Host naming it is accepted (see host-check.ts). */
  listen: string;
  /** Further Host names the server is known by (--public-host). */
  publicHosts: string[];
  /**
   * Time a connection has for each HTTP request to arrive whole (and, kept alive, for the next
   * one to start); the response gets three times as long.
   */
  requestTimeoutMs: number;
}

/** What the web front keeps per socket it was handed. */
interface Handed {
  base: BaseConduit;
  slot: PreAuthSlot;
}

const DEBIAN_HTML5_DIR = '/usr/share/spice-html5';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** The viewer's decoding worker: a worker runs under the policy its own script comes with. */
const WORKER_FILE = 'decode-worker.js';
/** It decodes what the page hands it and fetches nothing. */
const WORKER_CSP = "default-src 'none'";

/** The files of spiced's own viewer that the web front serves (the build's metafile stays private). */
const VIEWER_FILES = new Set([
  'index.html',
  'viewer.js',
  'viewer.js.map',
  'viewer.css',
  WORKER_FILE,
  `${WORKER_FILE}.map`,
]);

/** Where spice-html5 lives on the SPICE ports. */
const HTML5_PREFIX = '/spice-html5/';

/**
 * Where `npm run build` put the browser viewer (dist/web beside package.json), if it did: found
 * from this module's own place, which is src/server under tests and dist/src/server when built.
 */
export function findViewerDir(): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      const web = join(dir, 'dist', 'web');
      return existsSync(join(web, 'index.html')) && existsSync(join(web, 'viewer.js')) ? web : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The viewer page's Content-Security-Policy: its own scripts, styles and workers only (no inline
 * code, no CDN), WebSockets back to the host it came from, cursor shapes as data: images.
 */
function viewerCsp(host: string | undefined): string {
  // The Host was checked against the server's names (host-check.ts); anything odd is left out.
  const sockets = host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "worker-src 'self'",
    "media-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Where spice-html5 is, if anywhere: the given directory, else Debian's. */
export function findHtml5Dir(given?: string): string | undefined {
  const dir = given ?? DEBIAN_HTML5_DIR;
  return existsSync(join(dir, 'main.js')) ? dir : undefined;
}

/**
 * HTTP on the SPICE ports: GET serves spiced's own viewer at "/" (built by `npm run build` into
 * dist/web, with a strict Content-Security-Policy) and, when installed, spice-html5 under
 * /spice-html5/ (its spice_auto.html there). Both connect back to the port they came from and ask
 * for the password in the page: the server never puts a password in a URL. WebSocket upgrades,
 * on any path, become SPICE connections.
 */
export class WebFront {
  private readonly http = http.createServer((req, res) => this.serve(req, res));
  private readonly wss: WebSocketServer;
  private readonly handed = new WeakMap<Socket, Handed>();

  constructor(
    private readonly options: WebOptions,
    private readonly log: Logger,
    private readonly onWebSocket: (conduit: WsConduit, slot: PreAuthSlot) => void,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageSize,
      perMessageDeflate: false,
      // spice-html5 asks for "binary" and browsers fail the handshake unless it is echoed.
      handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
    });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head));
    this.http.on('clientError', (err, socket) => {
      this.log.warn(`bad HTTP request from ${(socket as Socket).remoteAddress ?? '?'}: ${err.message}`);
      socket.destroy();
    });
  }

  /**
   * Take over a socket whose first bytes were an HTTP request (they were put back into it). Node's
   * own header and request timeouts only run on a server that listen()s, which this one never
   * does (it is handed sockets), so each request's deadline comes from the pre-auth gate.
   */
  handle(socket: Socket, base: BaseConduit, slot: PreAuthSlot): void {
    this.handed.set(socket, { base, slot });
    slot.deadline('HTTP request', this.options.requestTimeoutMs);
    this.http.emit('connection', socket);
    socket.resume();
  }

  /** The Host name when the server is known by it, else undefined (DNS rebinding; host-check.ts). */
  private knownHost(req: http.IncomingMessage): string | undefined {
    const host = hostnameOf(req.headers.host ?? '');
    return host !== undefined && isKnownHost(host, this.options) ? host : undefined;
  }

  /** Origins: none (not a browser), listed with --allow-origin, or the page's own (same Host). */
  private originAllowed(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // not a browser: no cross-site risk
    const allow = this.options.allowOrigins;
    if (allow.includes('*') || allow.includes(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false; // an Origin that is not a URL is not our page
    }
  }

  /** Log and say why a request's Host is refused (a page of a rebound name, or a missing name). */
  private hostRefusal(req: http.IncomingMessage, peer: string, what: string): string {
    const host = JSON.stringify((req.headers.host ?? '').slice(0, 80));
    this.log.warn(`${what} from ${peer} refused: Host ${host} is not a name of this server (see --public-host)`);
    return `spiced: Host ${host} is not a name of this server; start it with --public-host NAME to use that name\n`;
  }

  private upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const handed = this.handed.get(socket);
    if (!handed) {
      socket.destroy();
      return;
    }
    const { base, slot } = handed;
    const peer = base.peer;
    if (this.knownHost(req) === undefined) {
      const body = this.hostRefusal(req, peer, 'WebSocket');
      const head = 'HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Type: text/plain\r\n';
      socket.end(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    if (!this.originAllowed(req)) {
      this.log.warn(`WebSocket from ${peer} refused: origin ${req.headers.origin} is not allowed (see --allow-origin)`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    slot.disarm(); // the link stage keeps its own deadline
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', (err) => this.log.warn(`WebSocket from ${peer}: ${err.message}`));
      this.onWebSocket(new WsConduit(ws, base), slot);
    });
  }

  /** Each request's response, then the next request, gets its deadline. */
  private pace(req: http.IncomingMessage, res: http.ServerResponse): void {
    const slot = this.handed.get(req.socket)?.slot;
    if (!slot) return;
    const ms = this.options.requestTimeoutMs;
    slot.deadline('HTTP response', 3 * ms);
    res.once('finish', () => slot.deadline('next HTTP request', ms));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.pace(req, res);
    const path = requestPath(req.url);
    const peer = this.handed.get(req.socket)?.base.peer ?? req.socket.remoteAddress ?? '?';
    if (this.knownHost(req) === undefined) {
      return this.reply(res, 421, 'text/plain', this.hostRefusal(req, peer, 'HTTP request'));
    }
    if (path === undefined) {
      const target = JSON.stringify((req.url ?? '').slice(0, 80));
      this.log.warn(`HTTP request from ${peer} refused: malformed path ${target}`);
      return this.reply(res, 400, 'text/plain', 'bad request\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return this.reply(res, 405, 'text/plain', 'only GET and HEAD here\n');
    if (path === HTML5_PREFIX.slice(0, -1) || path.startsWith(HTML5_PREFIX)) return this.serveHtml5(req, res, path);
    this.serveViewer(req, res, path);
  }

  private serveViewer(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const dir = this.options.viewerDir;
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (!VIEWER_FILES.has(name)) return this.reply(res, 404, 'text/plain', 'not found\n');
    if (!dir) {
      const html5 = this.options.html5Dir ? ` (spice-html5 is at ${HTML5_PREFIX})` : '';
      return this.reply(
        res,
        503,
        'text/plain',
        `spiced: the web viewer is not built here: run npm run build${html5}\n`,
      );
    }
    const body = req.method === 'HEAD' ? '' : readFileSync(join(dir, name));
    const csp: Record<string, string> =
      name === 'index.html'
        ? { 'Content-Security-Policy': viewerCsp(req.headers.host) }
        : name === WORKER_FILE
          ? { 'Content-Security-Policy': WORKER_CSP }
          : {};
    this.reply(res, 200, TYPES[extname(name)] ?? 'application/octet-stream', body, csp);
  }

  private serveHtml5(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const dir = this.options.html5Dir;
    if (!dir)
      return this.reply(
        res,
        404,
        'text/plain',
        'spiced: spice-html5 is not installed here (apt-get install spice-html5, or give --html5-dir)\n',
      );
    if (path === HTML5_PREFIX.slice(0, -1)) return this.redirect(res, HTML5_PREFIX);
    const rel = path === HTML5_PREFIX ? 'spice_auto.html' : path.slice(HTML5_PREFIX.length);
    const file = normalize(join(dir, rel));
    if (!file.startsWith(normalize(dir) + sep) || !existsSync(file) || !statSync(file).isFile()) {
      return this.reply(res, 404, 'text/plain', 'not found\n');
    }
    this.reply(
      res,
      200,
      TYPES[extname(file)] ?? 'application/octet-stream',
      req.method === 'HEAD' ? '' : readFileSync(file),
    );
  }

  private redirect(res: http.ServerResponse, location: string): void {
    res.writeHead(301, { Location: location, 'Content-Length': 0 });
    res.end();
  }

  private reply(
    res: http.ServerResponse,
    status: number,
    type: string,
    body: string | Buffer,
    extra: Record<string, string> = {},
  ): void {
    const headers = {
      'Content-Type': type,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      ...extra,
    };
    res.writeHead(status, headers);
    res.end(body);
  }
}

/** The decoded path of a request target, or undefined when it is not a valid URL path (bad escapes). */
function requestPath(target: string | undefined): string | undefined {
  try {
    return decodeURIComponent(new URL(target ?? '/', 'http://x').pathname);
  } catch {
    // URIError / TypeError: the request is malformed; the caller answers 400.
    return undefined;
  }
}
