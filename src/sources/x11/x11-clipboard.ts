import type { ClipboardSelection, ClipboardType, DesktopClipboard, ViewerClipboard } from '../../seam/index.js';
import { errorMessage } from '../../util/log.js';
import { XConnection, type ExtensionInfo, type XEvent } from './connection.js';
import { xfixesQueryVersion } from './ext-xfixes.js';
import { SelectionOwner, type OwnerAnswer } from './selection-owner.js';
import { SelectionReader, SelectionRefused, type ConvertResult } from './selection-reader.js';
import { convertImage, typesForViewers, typesForX, viewerTypeFor } from './selection-images.js';
import {
  LANDING_PROPERTIES,
  TYPE_TARGETS,
  atomNames,
  textFromProperty,
  toTarget,
  typeOfTarget,
  typesOffered,
} from './selection-targets.js';
import {
  ATOM_ATOM,
  MAX_PROPERTY_CHUNK,
  NONE,
  PROPERTY_CHANGE_MASK,
  SELECTION_CLEAR,
  SELECTION_REQUEST,
  decodeGetSelectionOwnerReply,
  decodeInternAtomReply,
  decodeSelectionClear,
  decodeSelectionRequest,
  decodeXfixesSelectionNotify,
  encodeCreateInputOnlyWindow,
  encodeDestroyWindow,
  encodeGetSelectionOwner,
  encodeInternAtom,
  encodeSetSelectionOwner,
  encodeXfixesSelectSelectionInput,
  readU32s,
  u32Data,
  type SelectionRequest,
} from './selection-wire.js';

/*
 * The X display's CLIPBOARD and PRIMARY as the agent's DesktopClipboard, on a connection of its
 * own (a 5 MiB paste never waits behind screen captures, nor they behind it), the way
 * spice-vdagent bridges X and the viewer:
 *  - desktop to viewers: XFIXES reports every change of a selection's owner (no polling); we ask
 *    the new owner for TARGETS and tell the viewers what it offers; a viewer's paste converts the
 *    selection into a property of our window (selection-reader.ts);
 *  - viewers to desktop: on a viewer's grab our window takes the selection; X applications'
 *    requests are answered with data fetched from the viewer (selection-owner.ts).
 * Text crosses unchanged as UTF-8 with LF line ends (see selection-targets.ts).
 */

export type ClipboardLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface X11ClipboardOptions {
  /** Largest selection carried either way (default 16 MiB). */
  readonly maxBytes?: number;
  /** How long an X client may take for one step of a transfer (default 5 s). */
  readonly stepTimeoutMs?: number;
  readonly log?: (level: ClipboardLogLevel, msg: string) => void;
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_STEP_TIMEOUT_MS = 5000;
/** INCR chunks we write: large enough that 5 MiB takes 40 round trips, far below the request limit. */
const INCR_CHUNK_BYTES = 128 * 1024;
const MAX_INCR_TRANSFERS = 8;
/** A TARGETS list is a few dozen atoms; this bounds what a hostile owner can make us read. */
const MAX_TARGETS_BYTES = 64 * 1024;
/** Landing properties a selection moves through after abandoned transfers (see replaceLanding). */
const SPARE_LANDINGS = 16;

interface SelectionState {
  readonly name: ClipboardSelection;
  readonly atom: number;
  /**
   * Where conversions from the desktop's owner land, on our window. Replaced by a fresh property
   * after a transfer we abandoned (SelectionRefused.landingSpoiled): its sender may go on writing.
   */
  landing: number;
  /** Landing properties given up so far (names the next one). */
  spoiledLandings: number;
  /** What the grabbing viewer offers while our window owns the selection for it; else null. */
  viewerTypes: readonly ClipboardType[] | null;
  /** What the desktop's owner offers (type to target atom), as announced to viewers; else null. */
  desktop: Map<ClipboardType, number> | null;
  /** Bumped on every owner change, so an answer about an earlier owner is dropped. */
  generation: number;
  /** Conversions into `landing` run one after another. */
  lane: Promise<unknown>;
}

interface Running {
  readonly conn: XConnection;
  readonly window: number;
  readonly atoms: ReadonlyMap<string, number>;
  readonly names: ReadonlyMap<number, string>;
  readonly reader: SelectionReader;
  readonly owner: SelectionOwner;
  readonly xfixes: ExtensionInfo | null;
  readonly selections: Record<ClipboardSelection, SelectionState>;
}

export class X11Clipboard implements DesktopClipboard {
  private viewers: ViewerClipboard | null = null;
  private run: Running | null = null;
  /** Viewer grabs that came before start(): applied once the connection is up. */
  private readonly early = new Map<ClipboardSelection, readonly ClipboardType[]>();
  private readonly maxBytes: number;
  private readonly stepTimeoutMs: number;

  constructor(private readonly opts: X11ClipboardOptions = {}) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.stepTimeoutMs = opts.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  }

  /** Transfers that went by INCR, each way (zero before start). */
  get stats(): { incrReceived: number; incrSent: number } {
    return { incrReceived: this.run?.reader.incrReceived ?? 0, incrSent: this.run?.owner.incrSent ?? 0 };
  }

  attach(viewers: ViewerClipboard): void {
    if (this.viewers) throw new Error('X11 clipboard already attached');
    this.viewers = viewers;
  }

  /** Open the clipboard's own connection to `display` and start bridging. */
  async start(display: string, xauthority?: string): Promise<void> {
    if (this.run) throw new Error('X11 clipboard already started');
    const conn = await XConnection.connect(display, { xauthority });
    try {
      this.run = await this.setUp(conn);
    } catch (err) {
      conn.close();
      throw err;
    }
    conn.onClose((err, expected) => {
      if (!expected) this.log('warn', `clipboard connection lost: ${err.message}`);
      this.run?.owner.stop();
      this.run = null;
    });
    for (const [selection, types] of this.early) this.viewerGrabbed(selection, types);
    this.early.clear();
    await this.announceCurrentOwners(this.run);
  }

  stop(): void {
    const run = this.run;
    if (!run) return;
    this.run = null;
    run.owner.stop();
    if (!run.conn.isClosed) run.conn.send(encodeDestroyWindow(run.window), 'DestroyWindow');
    run.conn.close();
  }

  viewerGrabbed(selection: ClipboardSelection, types: readonly ClipboardType[]): void {
    const run = this.run;
    if (!run) {
      this.early.set(selection, types);
      return;
    }
    const state = run.selections[selection];
    state.viewerTypes = [...types];
    state.desktop = null;
    state.generation++;
    run.conn.send(encodeSetSelectionOwner(run.window, state.atom), 'SetSelectionOwner');
  }

  viewerReleased(selection: ClipboardSelection): void {
    const run = this.run;
    if (!run) {
      this.early.delete(selection);
      return;
    }
    const state = run.selections[selection];
    if (!state.viewerTypes) return;
    state.viewerTypes = null;
    // Clearing the owner clears whoever owns it: only do so while that is still our window.
    void this.ownerOf(run, state.atom).then(
      (owner) => {
        if (owner === run.window && !state.viewerTypes) {
          run.conn.send(encodeSetSelectionOwner(NONE, state.atom), 'SetSelectionOwner(None)');
        }
      },
      (err: unknown) => this.log('warn', `releasing ${selection}: ${String(err)}`),
    );
  }

  read(selection: ClipboardSelection, type: ClipboardType): Promise<Uint8Array> {
    const run = this.run;
    if (!run) return Promise.reject(new Error('the X11 clipboard is not running'));
    const state = run.selections[selection];
    if (state.viewerTypes) return Promise.reject(new Error(`a viewer owns the ${selection} selection`));
    const target = state.desktop?.get(type);
    if (target === undefined) return Promise.reject(new Error(`the desktop's ${selection} offers no ${type}`));
    return this.inLane(state, async () => {
      const result = await this.convert(run, state, target, this.maxBytes);
      // BMP for a desktop that offers only PNG (typesForViewers): converted here.
      if (type === 'bmp' && run.names.get(target) === 'image/png') return convertImage(result.data, 'png', 'bmp');
      if (type !== 'text') return new Uint8Array(result.data);
      return textFromProperty(run.names.get(result.type) ?? '', result.data);
    });
  }

  private log(level: ClipboardLogLevel, msg: string): void {
    this.opts.log?.(level, `clipboard: ${msg}`);
  }

  private async setUp(conn: XConnection): Promise<Running> {
    conn.onUnhandledError((err) => this.log('warn', err.message));
    const names = atomNames();
    const values = await Promise.all(
      names.map((n) => conn.request(encodeInternAtom(n), `InternAtom(${n})`, decodeInternAtomReply)),
    );
    const atoms = new Map(names.map((n, i) => [n, values[i]!]));
    const atom = (n: string): number => atoms.get(n)!;
    const window = conn.allocId();
    await conn.checked(encodeCreateInputOnlyWindow(window, conn.screen.root, PROPERTY_CHANGE_MASK), 'CreateWindow');
    const state = (name: ClipboardSelection, atomName: string): SelectionState => ({
      name,
      atom: atom(atomName),
      landing: atom(LANDING_PROPERTIES[name]),
      spoiledLandings: 0,
      viewerTypes: null,
      desktop: null,
      generation: 0,
      lane: Promise.resolve(),
    });
    const run: Running = {
      conn,
      window,
      atoms,
      names: new Map(names.map((n, i) => [values[i]!, n])),
      reader: new SelectionReader(conn, window, atom('INCR'), this.stepTimeoutMs),
      owner: new SelectionOwner(
        conn,
        atom('INCR'),
        {
          incrThreshold: MAX_PROPERTY_CHUNK,
          chunkBytes: INCR_CHUNK_BYTES,
          stepTimeoutMs: this.stepTimeoutMs,
          maxTransfers: MAX_INCR_TRANSFERS,
        },
        (req) => this.answer(run, req),
        (m) => this.log('warn', m),
      ),
      xfixes: await this.watchOwners(conn, window, [atom('CLIPBOARD'), atom('PRIMARY')]),
      selections: { clipboard: state('clipboard', 'CLIPBOARD'), primary: state('primary', 'PRIMARY') },
    };
    conn.onEvent((ev) => this.dispatch(run, ev));
    return run;
  }

  /** XFIXES SelectSelectionInput for each selection; null (and a warning) without XFIXES. */
  private async watchOwners(conn: XConnection, window: number, selections: number[]): Promise<ExtensionInfo | null> {
    const ext = await conn.extension('XFIXES');
    if (!ext) {
      this.log('warn', 'X server has no XFIXES: copying on the desktop does not reach viewers');
      return null;
    }
    await xfixesQueryVersion(conn, ext);
    for (const s of selections)
      conn.send(encodeXfixesSelectSelectionInput(ext.majorOpcode, window, s), 'XFixesSelectSelectionInput');
    return ext;
  }

  private async announceCurrentOwners(run: Running): Promise<void> {
    for (const state of Object.values(run.selections)) {
      const owner = await this.ownerOf(run, state.atom);
      if (owner !== NONE) this.ownerChanged(run, state, owner);
    }
  }

  private ownerOf(run: Running, selection: number): Promise<number> {
    return run.conn.request(encodeGetSelectionOwner(selection), 'GetSelectionOwner', decodeGetSelectionOwnerReply);
  }

  private dispatch(run: Running, ev: XEvent): void {
    if (run.reader.handleEvent(ev) || run.owner.handleEvent(ev)) return;
    if (ev.code === SELECTION_REQUEST) {
      run.owner.handleRequest(decodeSelectionRequest(ev.data));
    } else if (ev.code === SELECTION_CLEAR) {
      // Another client took the selection from the viewer; XFIXES announces the new owner.
      const state = this.stateOf(run, decodeSelectionClear(ev.data).selection);
      if (state) state.viewerTypes = null;
    } else if (run.xfixes && ev.code === run.xfixes.firstEvent) {
      const n = decodeXfixesSelectionNotify(ev.data);
      const state = this.stateOf(run, n.selection);
      if (state) this.ownerChanged(run, state, n.owner);
    }
  }

  private stateOf(run: Running, atom: number): SelectionState | undefined {
    return Object.values(run.selections).find((s) => s.atom === atom);
  }

  /** A new owner (or none) for a selection: tell the viewers what it offers. */
  private ownerChanged(run: Running, state: SelectionState, owner: number): void {
    const generation = ++state.generation;
    if (owner === run.window || !this.viewers) return; // our own grab for a viewer, or nobody to tell
    if (owner === NONE) {
      this.desktopReleased(state);
      return;
    }
    void this.inLane(state, () => this.targetsOf(run, state)).then(
      (offered) => {
        if (generation !== state.generation) return;
        if (offered.size === 0) return this.desktopReleased(state);
        state.desktop = offered;
        this.viewers?.desktopGrabbed(state.name, [...offered.keys()]);
      },
      (err: unknown) => {
        if (generation !== state.generation) return;
        this.log('info', `the new ${state.name} owner gave no TARGETS (${String(err)}); not offered to viewers`);
        this.desktopReleased(state);
      },
    );
  }

  private async targetsOf(run: Running, state: SelectionState): Promise<Map<ClipboardType, number>> {
    const result = await this.convert(run, state, run.atoms.get('TARGETS')!, MAX_TARGETS_BYTES);
    const names = readU32s(result.data)
      .map((a) => run.names.get(a))
      .filter((n): n is string => n !== undefined);
    const offered = new Map<ClipboardType, number>();
    for (const [type, target] of typesOffered(names)) offered.set(type, run.atoms.get(target)!);
    return typesForViewers(offered);
  }

  /** Convert the selection into its landing property; one that a failed transfer spoiled is replaced. */
  private async convert(run: Running, state: SelectionState, target: number, maxBytes: number): Promise<ConvertResult> {
    try {
      return await run.reader.convert(state.atom, target, state.landing, maxBytes);
    } catch (err) {
      if (err instanceof SelectionRefused && err.landingSpoiled) await this.replaceLanding(run, state);
      throw err;
    }
  }

  /**
   * A new landing property for a selection, so that what an abandoned sender still writes into the
   * old one is never read as the answer to a later conversion. The old property keeps at most the
   * one chunk the sender wrote after our last deletion (deleting it would only ask for the next).
   * The names cycle through SPARE_LANDINGS, so a desktop that keeps offering oversize data cannot
   * make us intern atoms without end; a sender still writing 16 abandonments later is not guarded.
   */
  private async replaceLanding(run: Running, state: SelectionState): Promise<void> {
    state.spoiledLandings++;
    const name = `${LANDING_PROPERTIES[state.name]}_${((state.spoiledLandings - 1) % SPARE_LANDINGS) + 1}`;
    const fresh = await run.conn.request(encodeInternAtom(name), `InternAtom(${name})`, decodeInternAtomReply);
    run.reader.forget(state.landing);
    state.landing = fresh;
    this.log('info', `abandoned a ${state.name} transfer; later conversions land in ${name}`);
  }

  private desktopReleased(state: SelectionState): void {
    if (!state.desktop) return;
    state.desktop = null;
    this.viewers?.desktopReleased(state.name);
  }

  /** What to write for an X client's request while a viewer owns the selection through us. */
  private async answer(run: Running, req: SelectionRequest): Promise<OwnerAnswer | null> {
    const state = this.stateOf(run, req.selection);
    const types = state?.viewerTypes;
    if (!state || !types || req.owner !== run.window) return null;
    const target = run.names.get(req.target);
    if (target === 'TARGETS') {
      const names = ['TARGETS', ...typesForX(types).flatMap((t) => TYPE_TARGETS[t])];
      return { type: ATOM_ATOM, format: 32, bytes: u32Data(names.map((n) => run.atoms.get(n)!)) };
    }
    const type = target === undefined ? undefined : typeOfTarget(target);
    const from = type && viewerTypeFor(type, types);
    if (!target || !type || !from || !this.viewers) return null;
    const data = await this.viewers.fetch(state.name, from);
    if (data.length > this.maxBytes) {
      throw new SelectionRefused(`the viewer's ${from} of ${data.length} bytes exceeds the limit of ${this.maxBytes}`);
    }
    const converted = toTarget(target, from === type ? data : this.converted(data, from, type));
    return { type: run.atoms.get(converted.typeName)!, format: 8, bytes: converted.bytes };
  }

  /** A viewer's image in the format an X client asked for (refused, with the reason, when it does not decode). */
  private converted(data: Uint8Array, from: ClipboardType, to: ClipboardType): Uint8Array {
    try {
      return convertImage(data, from, to);
    } catch (err) {
      throw new SelectionRefused(`the viewer's ${from} could not be converted to ${to}: ${errorMessage(err)}`);
    }
  }

  private inLane<T>(state: SelectionState, step: () => Promise<T>): Promise<T> {
    const result = state.lane.then(step, step);
    state.lane = result.catch(() => undefined);
    return result;
  }
}
