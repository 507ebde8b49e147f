/*
 * spiced as a library: a SPICE server over any display source, the sources that ship with it,
 * recordings, and the project's own SPICE client (tests, replay, benches use it).
 *
 *   import { SpiceServer, DemoSource } from 'spiced';
 *   const server = new SpiceServer({ source: new DemoSource(), port: 5900 });
 *   await server.start();
 */
export { SpiceServer, type ClientReport, type SpiceServerOptions } from './server/server.js';
export {
  makeCertificates,
  readCertificates,
  writeCertificates,
  ensureCertificates,
  type TlsMaterial,
} from './server/certs.js';
export { DEFAULT_POLICY, type CoalescePolicy, type CorkPolicy, type StreamPolicy } from './transport/policy.js';
export type { DisplaySource, InputEvent } from './seam/index.js';
export type { DisplaySink, SeamCommand, CursorShape } from './seam/index.js';
export type { PixelImage } from './display/pixels.js';
export { Desktop } from './display/desktop.js';
export { DemoSource, type DemoOptions } from './sources/demo/index.js';
export { X11Source, type X11SourceOptions } from './sources/x11/x11-source.js';
export { ResilientX11Source, type ResilientX11Options } from './sources/x11/resilient.js';
export { startXvfb, type XvfbHandle, type XvfbOptions } from './sources/x11/xvfb.js';
export {
  RecordingSource,
  readRecording,
  renderRecording,
  SessionRecorder,
  writeRecording,
  type RecordingSourceOptions,
} from './sources/recording/index.js';
export { SpiceClient, type SpiceClientOptions } from './client/client.js';
