import { MouseMode } from '../protocol/constants.js';
import { AudioPlayer, opusDecodable } from './audio.js';
import { Backoff } from './backoff.js';
import { CanvasView } from './canvas-view.js';
import { CursorView } from './cursor-view.js';
import { InputController } from './input.js';
import { SPECIAL_COMBOS } from './keymap.js';
import { DesktopSync } from './desktop-sync.js';
import { diagnose } from './link-errors.js';
import { WebSession } from './session.js';
import { mjpegDecodable, VideoPainter } from './video.js';

/* The page: one session at a time on the port the page came from, its canvas, controls and overlay. */

function element<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

const query = new URLSearchParams(location.search);
const viewOnly = query.has('view-only') && query.get('view-only') !== '0';
/**
 * The WebSocket in the page's own directory: `/` when spiced serves the page itself, `/desk/NAME/`
 * behind a proxy that routes desks by path (docs/deploy.md); spiced accepts it on any path.
 */
const pageDirectory = location.pathname.replace(/[^/]*$/, '');
const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${pageDirectory}`;
/** ?resize=0: the desktop keeps its size whatever the window's. */
const followWindow = query.get('resize') !== '0';
/** ?lz4=0: photos as the server chooses for every viewer (QUIC) instead of LZ4 on fast links. */
const lz4 = query.get('lz4') !== '0';
/**
 * ?worker=0: every image decoded on the main thread (the bench compares); otherwise large ones are
 * decoded in dist/web/decode-worker.js, found beside this script (under a proxy's path too).
 */
const decodeWorker = query.get('worker') === '0' ? undefined : new URL('decode-worker.js', import.meta.url);
/** ?audio=pcm asks for raw PCM even where Opus decodes, ?audio=off for no sound at all. */
const audioChoice = query.get('audio');

const canvas = element<HTMLCanvasElement>('display');
const status = element<HTMLElement>('status');
const login = element<HTMLFormElement>('login');
const passwordInput = element<HTMLInputElement>('password');
const loginError = element<HTMLElement>('login-error');
const overlay = element<HTMLElement>('overlay');

const view = new CanvasView(canvas);
const cursor = new CursorView(canvas, element<HTMLImageElement>('sprite'));
const backoff = new Backoff();
const audio = new AudioPlayer();
/** ?video=0: the server sends video areas as images instead of MJPEG streams. */
const video = query.get('video') !== '0' && mjpegDecodable();
let painter: VideoPainter | undefined;
let audioMode: 'opus' | 'pcm' | 'off' = 'pcm';
let session: WebSession | undefined;
let password = '';
let gavePassword = false;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
const scale = element<HTMLInputElement>('scale');

function setFit(fit: boolean): void {
  scale.checked = fit;
  document.body.classList.toggle('fit', fit);
}

const sync = new DesktopSync(
  () => session,
  element<HTMLElement>('screen'),
  setFit,
  () => followWindow && !scale.checked,
);

const input = viewOnly
  ? undefined
  : new InputController(canvas, {
      send: (m) => session?.sendInput(m),
      get mouseMode() {
        return session?.mouseMode ?? MouseMode.Client;
      },
    });

function setStatus(text: string, state: string): void {
  status.textContent = text;
  document.body.dataset.state = state;
}

function connect(): void {
  clearTimeout(retryTimer);
  setStatus('Connecting…', 'connecting');
  const s = new WebSession(
    { url, password, viewOnly, audio: audioMode, video, lz4, agentPage: sync, decodeWorker },
    {
      display: (m) => {
        view.update(m, s.display.primary);
        painter?.update(m);
      },
      cursor: (m) => cursor.apply(m),
      playback: (m) => {
        audio.handle(m);
        showMute();
      },
      mouseMode: (mode) => cursor.setMouseMode(mode),
      ready: () => {
        backoff.reset();
        element<HTMLButtonElement>('mic').hidden = !s.canRecord;
        login.hidden = true;
        setStatus(viewOnly ? 'Connected (view only)' : 'Connected', 'connected');
        if (!viewOnly) canvas.focus();
      },
      closed: (err, channel) => onClosed(s, err, channel),
    },
  );
  session = s;
  painter = video ? new VideoPainter(s.display, (r) => view.invalidate(r)) : undefined;
  s.connect();
}

function onClosed(s: WebSession, err: Error | undefined, channel: number | undefined): void {
  if (session !== s || !err) return;
  session = undefined;
  input?.releaseAll();
  audio.close();
  const d = diagnose({ err, channel, gavePassword });
  if (d.askPassword) {
    setStatus(d.message, 'password');
    loginError.textContent = gavePassword ? d.message : '';
    login.hidden = false;
    passwordInput.value = '';
    passwordInput.focus();
    return;
  }
  if (!d.retry) return setStatus(d.message, 'failed');
  const ms = backoff.next();
  setStatus(`${d.message}. Reconnecting in ${(ms / 1000).toFixed(1)} s…`, 'reconnecting');
  retryTimer = setTimeout(connect, ms);
}

login.addEventListener('submit', (e) => {
  e.preventDefault();
  password = passwordInput.value;
  gavePassword = true;
  login.hidden = true;
  connect();
});

function setUpControls(): void {
  const keys = element<HTMLSelectElement>('keys');
  for (const [i, c] of SPECIAL_COMBOS.entries()) keys.add(new Option(c.label, String(i)));
  keys.addEventListener('change', () => {
    const combo = SPECIAL_COMBOS[Number(keys.value)];
    if (combo) input?.combo(combo.codes);
    keys.value = '';
    canvas.focus();
  });
  if (viewOnly) for (const e of document.querySelectorAll<HTMLElement>('.input-only')) e.hidden = true;
  scale.addEventListener('change', () => {
    setFit(scale.checked);
    sync.resize();
  });
  canvas.addEventListener('focus', () => sync.offerClipboard());
  element<HTMLButtonElement>('fullscreen').addEventListener('click', () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void element<HTMLElement>('screen').requestFullscreen();
  });
  const mute = element<HTMLButtonElement>('mute');
  mute.addEventListener('click', () => {
    audio.resume();
    audio.setMuted(!audio.muted);
    showMute();
  });
  // Browsers let a page play sound only after a gesture on it.
  for (const type of ['pointerdown', 'keydown']) {
    window.addEventListener(
      type,
      () => {
        audio.resume();
        showMute();
      },
      { capture: true },
    );
  }
  const mic = element<HTMLButtonElement>('mic');
  mic.addEventListener('click', () => {
    const on = !session?.microphone;
    session?.setMicrophone(on);
    mic.textContent = on ? 'Mic off' : 'Mic';
  });
  const statsButton = element<HTMLButtonElement>('stats-toggle');
  statsButton.addEventListener('click', () => {
    overlay.hidden = !overlay.hidden;
  });
}

function showMute(): void {
  const mute = element<HTMLButtonElement>('mute');
  mute.textContent = audio.muted ? 'Unmute' : audio.suspended ? 'Sound (click)' : 'Mute';
  mute.hidden = audioMode === 'off';
}

/** frames/s, bytes/s and round-trip time, once a second. */
function runOverlay(): void {
  let frames = view.frames;
  let bytes = 0;
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const seconds = (now - last) / 1000;
    const received = session?.bytesReceived ?? 0;
    const fps = (view.frames - frames) / seconds;
    const bps = Math.max(received - bytes, 0) / seconds;
    const rtt = session?.rttMs;
    overlay.textContent = `${fps.toFixed(0)} frames/s · ${formatBytes(bps)}/s · RTT ${rtt === undefined ? '–' : `${rtt.toFixed(0)} ms`}`;
    frames = view.frames;
    bytes = received;
    last = now;
  }, 1000);
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n.toFixed(0)} B`;
}

/** A handle for the browser console (and the tests): the session, the canvas view, the sound. */
Object.assign(window, {
  spiced: {
    get session() {
      return session;
    },
    view,
    audio,
    get video() {
      return painter;
    },
  },
});

setUpControls();
runOverlay();
audioMode = audioChoice === 'off' ? 'off' : audioChoice === 'pcm' ? 'pcm' : (await opusDecodable()) ? 'opus' : 'pcm';
showMute();
connect();
