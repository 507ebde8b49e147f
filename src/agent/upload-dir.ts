import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FileXferResult } from '../protocol/agent.js';
import { errorMessage, type Logger } from '../util/log.js';
import type { FileUploads, FileXferMessage, UploadPeer } from './file-upload.js';

export interface UploadLimits {
  /** Largest file accepted, in bytes. */
  maxFileBytes: number;
  /** Transfers one viewer may have open at once, and all viewers together. */
  maxPerViewer: number;
  maxTotal: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFileBytes: 1 << 30, maxPerViewer: 8, maxTotal: 32 };

/** Bytes of file data waiting to be written before a viewer's agent tokens are held back. */
const UPLOAD_BACKLOG_LIMIT = 4 << 20;
/** "name (2).txt", "name (3).txt"... are tried up to this many before the transfer fails. */
const MAX_NAME_TRIES = 1000;
/** Longest file name most file systems take (bytes of UTF-8). */
const MAX_NAME_BYTES = 255;

/**
 * Why a name a viewer sends is refused, or undefined when it is acceptable. spice-gtk sends a
 * file's base name, so a path separator, `.`/`..`, a control character or an empty name means the
 * viewer is not spice-gtk: refused rather than mended.
 */
function hostileName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'an empty or dot name';
  if (/[/\\]/.test(name)) return 'a path separator';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'a control character';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `more than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/** The i-th candidate for `name`: the name itself, then "stem (i).ext". */
function candidateName(name: string, i: number): string {
  if (i === 0) return name;
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${stem} (${i + 1})${ext}`;
}

interface Transfer {
  id: number;
  peer: UploadPeer;
  name: string;
  size: number;
  received: number;
  /** Bytes handed to the file but not yet written. */
  backlog: number;
  tmpPath: string;
  file: fs.FileHandle;
  /** Writes in order; rejects once one fails. */
  chain: Promise<void>;
  done: boolean;
}

/**
 * Files dropped into the desktop land in one directory: each is written to a hidden temporary
 * file and linked to a free name only once complete (link never replaces an existing file), so a
 * cancelled or failed transfer leaves nothing behind and nothing is ever overwritten.
 */
export class UploadDir implements FileUploads {
  private readonly transfers = new Map<UploadPeer, Map<number, Transfer>>();
  private readonly drainWaiters = new Map<UploadPeer, (() => void)[]>();
  private total = 0;
  /**
   * Transfers between START and their file being open (ids by viewer): counted against the limits
   * at once, so a burst of STARTs cannot pass the checks together while the first ones await.
   */
  private readonly opening = new Map<UploadPeer, Set<number>>();
  private openingTotal = 0;
  /** Bumped when a viewer goes: a START still opening its file for the viewer as it was is dropped. */
  private readonly epochs = new WeakMap<UploadPeer, number>();

  constructor(
    readonly dir: string,
    private readonly log: Logger,
    private readonly limits: UploadLimits = DEFAULT_UPLOAD_LIMITS,
  ) {}

  handle(peer: UploadPeer, m: FileXferMessage): void {
    switch (m.kind) {
      case 'fileXferStart':
        void this.start(peer, m.id, m.name, m.size);
        return;
      case 'fileXferData':
        this.data(peer, m.id, m.data);
        return;
      case 'fileXferStatus': {
        const t = this.transfers.get(peer)?.get(m.id);
        if (!t) return;
        const what = m.result === FileXferResult.Cancelled ? 'cancelled' : `ended with status ${m.result}`;
        this.abort(t, `${peer.peer} ${what}`, undefined);
        return;
      }
    }
  }

  viewerGone(peer: UploadPeer): void {
    this.epochs.set(peer, (this.epochs.get(peer) ?? 0) + 1);
    for (const t of [...(this.transfers.get(peer)?.values() ?? [])]) this.abort(t, `${peer.peer} left`, undefined);
    this.transfers.delete(peer);
    // Nothing of this viewer's is waiting to be written any more: whoever waited goes on.
    const waiting = this.drainWaiters.get(peer) ?? [];
    this.drainWaiters.delete(peer);
    for (const f of waiting) f();
  }

  /** Bytes of this viewer's file data waiting to be written. */
  backlog(peer: UploadPeer): number {
    let n = 0;
    for (const t of this.transfers.get(peer)?.values() ?? []) n += t.backlog;
    return n;
  }

  /** Call `f` once this viewer's backlog is under UPLOAD_BACKLOG_LIMIT (at once if it is). */
  whenDrained(peer: UploadPeer, f: () => void): void {
    if (this.backlog(peer) < UPLOAD_BACKLOG_LIMIT) return f();
    const list = this.drainWaiters.get(peer) ?? [];
    list.push(f);
    this.drainWaiters.set(peer, list);
  }

  private refuse(
    peer: UploadPeer,
    id: number,
    why: string,
    result: number = FileXferResult.Error,
    detail?: Buffer,
  ): void {
    this.log.warn(`upload ${id} from ${peer.peer} refused: ${why}`);
    if (detail && peer.detailedErrors) peer.sendFileStatus(id, result, detail);
    else
      peer.sendFileStatus(
        id,
        result === FileXferResult.NotEnoughSpace && !peer.detailedErrors ? FileXferResult.Error : result,
      );
  }

  private async start(peer: UploadPeer, id: number, name: string, size: number): Promise<void> {
    const hostile = hostileName(name);
    if (hostile) return this.refuse(peer, id, `name ${JSON.stringify(name)} has ${hostile}`);
    const opening = this.opening.get(peer) ?? new Set<number>();
    if (this.transfers.get(peer)?.has(id) || opening.has(id)) {
      return this.refuse(peer, id, `transfer id ${id} already in progress`);
    }
    const busy = (this.transfers.get(peer)?.size ?? 0) + opening.size;
    const all = this.total + this.openingTotal;
    if (busy >= this.limits.maxPerViewer || all >= this.limits.maxTotal) {
      return this.refuse(peer, id, `too many transfers at once (${busy} of this viewer, ${all} in all)`);
    }
    opening.add(id);
    this.opening.set(peer, opening);
    this.openingTotal++;
    try {
      await this.open(peer, id, name, size);
    } finally {
      opening.delete(id);
      if (opening.size === 0 && this.opening.get(peer) === opening) this.opening.delete(peer);
      this.openingTotal--;
    }
  }

  /** Check the room, create the temporary file and register the transfer (its slot is held). */
  private async open(peer: UploadPeer, id: number, name: string, size: number): Promise<void> {
    const epoch = this.epochs.get(peer) ?? 0;
    const room = await this.room();
    if (size > room) {
      const free = Buffer.alloc(8);
      free.writeBigUInt64LE(BigInt(room), 0);
      return this.refuse(peer, id, `${size} bytes, ${room} allowed`, FileXferResult.NotEnoughSpace, free);
    }
    const tmpPath = join(this.dir, `.spiced-upload-${randomBytes(6).toString('hex')}`);
    let file: fs.FileHandle;
    try {
      file = await fs.open(tmpPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
    } catch (err) {
      return this.refuse(peer, id, `cannot write in ${this.dir}: ${errorMessage(err)}`);
    }
    if ((this.epochs.get(peer) ?? 0) !== epoch) {
      // The viewer left (or its agent was reset) while the file was being created.
      await file.close().catch((err: unknown) => this.log.debug(`closing ${tmpPath}: ${errorMessage(err)}`));
      await fs.rm(tmpPath, { force: true });
      this.log.debug(`upload ${id} from ${peer.peer} dropped: the viewer went while it started`);
      return;
    }
    const mine = this.transfers.get(peer) ?? new Map<number, Transfer>();
    const t: Transfer = {
      id,
      peer,
      name,
      size,
      received: 0,
      backlog: 0,
      tmpPath,
      file,
      chain: Promise.resolve(),
      done: false,
    };
    mine.set(id, t);
    this.transfers.set(peer, mine);
    this.total++;
    this.log.info(`${peer.peer} sends ${JSON.stringify(name)} (${size} bytes)`);
    if (size === 0) return void this.finish(t);
    peer.sendFileStatus(id, FileXferResult.CanSendData);
  }

  /** What one file may take: the configured limit, or less when the disk has less free. */
  private async room(): Promise<number> {
    try {
      const s = await fs.statfs(this.dir);
      return Math.min(this.limits.maxFileBytes, s.bavail * s.bsize);
    } catch (err) {
      // statfs is not everywhere (older kernels, some file systems): the limit alone then.
      this.log.debug(`free space of ${this.dir} unknown: ${errorMessage(err)}`);
      return this.limits.maxFileBytes;
    }
  }

  private data(peer: UploadPeer, id: number, data: Buffer): void {
    const t = this.transfers.get(peer)?.get(id);
    if (!t || t.done) {
      this.log.debug(`file data for unknown transfer ${id} from ${peer.peer} dropped`);
      return;
    }
    if (t.received + data.length > t.size) {
      this.abort(t, `${peer.peer} sent more than the ${t.size} bytes it announced`, FileXferResult.Error);
      return;
    }
    t.received += data.length;
    t.backlog += data.length;
    t.chain = t.chain.then(async () => {
      await t.file.write(data);
      t.backlog -= data.length;
      this.wakeDrainWaiters(peer);
    });
    t.chain.catch((err: unknown) => this.abort(t, `writing ${t.tmpPath}: ${errorMessage(err)}`, FileXferResult.Error));
    if (t.received === t.size) void this.finish(t);
  }

  private wakeDrainWaiters(peer: UploadPeer): void {
    const list = this.drainWaiters.get(peer);
    if (!list || this.backlog(peer) >= UPLOAD_BACKLOG_LIMIT) return;
    this.drainWaiters.delete(peer);
    for (const f of list) f();
  }

  /** All bytes are in: close the file, link it to a free name, tell the viewer. */
  private async finish(t: Transfer): Promise<void> {
    t.done = true;
    try {
      await t.chain;
      await t.file.close();
      const path = await this.linkFree(t.tmpPath, t.name);
      await fs.unlink(t.tmpPath);
      this.forget(t);
      this.log.info(`${t.peer.peer} uploaded ${JSON.stringify(t.name)} (${t.size} bytes) to ${path}`);
      t.peer.sendFileStatus(t.id, FileXferResult.Success);
    } catch (err) {
      this.abort(t, `finishing ${JSON.stringify(t.name)}: ${errorMessage(err)}`, FileXferResult.Error);
    }
  }

  /** Link `tmp` to the first free candidate of `name`: link fails rather than replace a file. */
  private async linkFree(tmp: string, name: string): Promise<string> {
    for (let i = 0; i < MAX_NAME_TRIES; i++) {
      const path = join(this.dir, candidateName(name, i));
      try {
        await fs.link(tmp, path);
        return path;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    throw new Error(`no free name for ${JSON.stringify(name)} after ${MAX_NAME_TRIES} tries`);
  }

  /** Stop a transfer, remove its partial file, and tell the viewer `result` (undefined: it knows). */
  private abort(t: Transfer, why: string, result: number | undefined): void {
    if (!this.forget(t)) return;
    t.done = true;
    this.log.warn(`upload of ${JSON.stringify(t.name)} stopped: ${why}; partial file removed`);
    // A failed write was reported as the reason already; closing a file whose write failed may fail too.
    void t.chain
      .catch(() => undefined)
      .then(() => t.file.close())
      .catch((err: unknown) => this.log.debug(`closing ${t.tmpPath}: ${errorMessage(err)}`))
      .then(() => fs.rm(t.tmpPath, { force: true }))
      .catch((err: unknown) => this.log.error(`cannot remove ${t.tmpPath}: ${errorMessage(err)}`));
    if (result !== undefined) t.peer.sendFileStatus(t.id, result);
    this.wakeDrainWaiters(t.peer);
  }

  /** Drop `t` from the tables; false when it was already gone. */
  private forget(t: Transfer): boolean {
    const mine = this.transfers.get(t.peer);
    if (mine?.get(t.id) !== t) return false;
    mine.delete(t.id);
    this.total--;
    return true;
  }
}
