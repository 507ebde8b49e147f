/**
 * SPICE protocol numbers (spice-protocol 0.14 / spice.proto). Plain `as const` objects rather than
 * enums so that tools that strip types (esbuild, vitest) see the same values as tsc.
 */

export const SPICE_MAGIC = 0x51444552; // "REDQ" read as a little-endian u32
export const SPICE_VERSION_MAJOR = 2;
export const SPICE_VERSION_MINOR = 2;

export const ChannelType = {
  Main: 1,
  Display: 2,
  Inputs: 3,
  Cursor: 4,
  Playback: 5,
  Record: 6,
  Tunnel: 7,
  Smartcard: 8,
  Usbredir: 9,
  Port: 10,
  Webdav: 11,
} as const;

/** Lower-case names (as the CLI and the logs spell them), keyed by channel type. */
const channelNames: Record<number, string> = Object.fromEntries(
  Object.entries(ChannelType).map(([name, type]) => [type, name.toLowerCase()]),
);

export function channelName(type: number): string {
  return channelNames[type] ?? `channel-${type}`;
}

export function channelTypeByName(name: string): number | undefined {
  for (const [k, v] of Object.entries(channelNames)) if (v === name) return Number(k);
  return undefined;
}

export const LinkErr = {
  Ok: 0,
  Error: 1,
  InvalidMagic: 2,
  InvalidData: 3,
  VersionMismatch: 4,
  NeedSecured: 5,
  NeedUnsecured: 6,
  PermissionDenied: 7,
  BadConnectionId: 8,
  ChannelNotAvailable: 9,
} as const;

const linkErrNames = Object.fromEntries(Object.entries(LinkErr).map(([k, v]) => [v, k])) as Record<number, string>;

export function linkErrName(code: number): string {
  const n = linkErrNames[code];
  return n ? `SPICE_LINK_ERR_${n.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}` : `link error ${code}`;
}

/** Common capability bits (link stage). */
export const CommonCap = {
  ProtocolAuthSelection: 0,
  AuthSpice: 1,
  AuthSasl: 2,
  MiniHeader: 3,
} as const;

export const MainCap = { SemiSeamlessMigrate: 0, NameAndUuid: 1, AgentConnectedTokens: 2, SeamlessMigrate: 3 } as const;
export const DisplayCap = {
  SizedStream: 0,
  MonitorsConfig: 1,
  Composite: 2,
  A8Surface: 3,
  StreamReport: 4,
  Lz4Compression: 5,
  PrefCompression: 6,
  GlScanout: 7,
  MultiCodec: 8,
  CodecMjpeg: 9,
  CodecVp8: 10,
  CodecH264: 11,
  PrefVideoCodecType: 12,
  CodecVp9: 13,
  CodecH265: 14,
} as const;
/** SpiceImageCompression: what a viewer may ask for in PREFERRED_COMPRESSION. */
export const ImageCompressionPref = {
  Off: 1,
  AutoGlz: 2,
  AutoLz: 3,
  Quic: 4,
  Glz: 5,
  Lz: 6,
  Lz4: 7,
} as const;
export const InputsCap = { KeyScancode: 0 } as const;
export const PlaybackCap = { Celt051: 0, Volume: 1, Latency: 2, Opus: 3 } as const;
export const RecordCap = { Celt051: 0, Volume: 1, Opus: 2 } as const;

export const AuthMechanism = { Spice: 1, Sasl: 2 } as const;

/** Messages every channel shares, server to client. */
export const CommonMsg = {
  Migrate: 1,
  MigrateData: 2,
  SetAck: 3,
  Ping: 4,
  WaitForChannels: 5,
  Disconnecting: 6,
  Notify: 7,
  List: 8,
} as const;

/** Messages every channel shares, client to server. */
export const CommonMsgc = {
  AckSync: 1,
  Ack: 2,
  Pong: 3,
  MigrateFlushMark: 4,
  MigrateData: 5,
  Disconnecting: 6,
} as const;

export const MainMsg = {
  MigrateBegin: 101,
  MigrateCancel: 102,
  Init: 103,
  ChannelsList: 104,
  MouseMode: 105,
  MultiMediaTime: 106,
  AgentConnected: 107,
  AgentDisconnected: 108,
  AgentData: 109,
  AgentToken: 110,
  MigrateSwitchHost: 111,
  MigrateEnd: 112,
  Name: 113,
  Uuid: 114,
  AgentConnectedTokens: 115,
  MigrateBeginSeamless: 116,
  MigrateDstSeamlessAck: 117,
  MigrateDstSeamlessNack: 118,
} as const;

export const MainMsgc = {
  ClientInfo: 101,
  MigrateConnected: 102,
  MigrateConnectError: 103,
  AttachChannels: 104,
  MouseModeRequest: 105,
  AgentStart: 106,
  AgentData: 107,
  AgentToken: 108,
  MigrateEnd: 109,
  MigrateDstDoSeamless: 110,
  MigrateConnectedSeamless: 111,
  QualityIndicator: 112,
} as const;

export const DisplayMsg = {
  Mode: 101,
  Mark: 102,
  Reset: 103,
  CopyBits: 104,
  InvalList: 105,
  InvalAllPixmaps: 106,
  InvalPalette: 107,
  InvalAllPalettes: 108,
  StreamCreate: 122,
  StreamData: 123,
  StreamClip: 124,
  StreamDestroy: 125,
  StreamDestroyAll: 126,
  DrawFill: 302,
  DrawOpaque: 303,
  DrawCopy: 304,
  DrawBlend: 305,
  DrawBlackness: 306,
  DrawWhiteness: 307,
  DrawInvers: 308,
  DrawRop3: 309,
  DrawStroke: 310,
  DrawText: 311,
  DrawTransparent: 312,
  DrawAlphaBlend: 313,
  SurfaceCreate: 314,
  SurfaceDestroy: 315,
  StreamDataSized: 316,
  MonitorsConfig: 317,
  DrawComposite: 318,
  StreamActivateReport: 319,
  GlScanoutUnix: 320,
  GlDraw: 321,
  QualityIndicator: 322,
} as const;

export const DisplayMsgc = {
  Init: 101,
  StreamReport: 102,
  PreferredCompression: 103,
  GlDrawDone: 104,
  PreferredVideoCodecType: 105,
} as const;

export const InputsMsg = { Init: 101, KeyModifiers: 102, MouseMotionAck: 111 } as const;
export const InputsMsgc = {
  KeyDown: 101,
  KeyUp: 102,
  KeyModifiers: 103,
  KeyScancode: 104,
  MouseMotion: 111,
  MousePosition: 112,
  MousePress: 113,
  MouseRelease: 114,
} as const;

export const CursorMsg = {
  Init: 101,
  Reset: 102,
  Set: 103,
  Move: 104,
  Hide: 105,
  Trail: 106,
  InvalOne: 107,
  InvalAll: 108,
} as const;

export const PlaybackMsg = {
  Data: 101,
  Mode: 102,
  Start: 103,
  Stop: 104,
  Volume: 105,
  Mute: 106,
  Latency: 107,
} as const;
export const RecordMsg = { Start: 101, Stop: 102, Volume: 103, Mute: 104 } as const;
export const RecordMsgc = { Data: 101, Mode: 102, StartMark: 103 } as const;

export const MouseMode = { Server: 1, Client: 2 } as const;
export const NotifySeverity = { Info: 0, Warn: 1, Error: 2 } as const;
export const NotifyVisibility = { Low: 0, Medium: 1, High: 2 } as const;

export const SurfaceFormat = { A1: 1, A8: 8, Rgb555: 16, Rgb565: 80, Xrgb32: 32, Argb32: 96 } as const;
export const SurfaceFlags = { Primary: 1, StreamingMode: 2 } as const;

export const ImageType = {
  Bitmap: 0,
  Quic: 1,
  LzPlt: 100,
  LzRgb: 101,
  GlzRgb: 102,
  FromCache: 103,
  Surface: 104,
  Jpeg: 105,
  FromCacheLossless: 106,
  ZlibGlzRgb: 107,
  JpegAlpha: 108,
  Lz4: 109,
} as const;

export const ImageFlags = { CacheMe: 1, HighBitsSet: 2, CacheReplaceMe: 4 } as const;

export const BitmapFormat = {
  Invalid: 0,
  Bit1Le: 1,
  Bit1Be: 2,
  Bit4Le: 3,
  Bit4Be: 4,
  Bit8: 5,
  Bit16: 6,
  Bit24: 7,
  Bit32: 8,
  Rgba: 9,
  Bit8A: 10,
} as const;

export const BitmapFlags = { PalCacheMe: 1, PalFromCache: 2, TopDown: 4 } as const;

export const ClipType = { None: 0, Rects: 1 } as const;
export const BrushType = { None: 0, Solid: 1, Pattern: 2 } as const;

/** ROP descriptor bits (SpiceROPDescriptor). */
export const Ropd = {
  InversSrc: 1,
  InversBrush: 2,
  InversDest: 4,
  OpPut: 8,
  OpOr: 16,
  OpAnd: 32,
  OpXor: 64,
  OpBlackness: 128,
  OpWhiteness: 256,
  OpInvers: 512,
  InversRes: 1024,
} as const;

export const ScaleMode = { Interpolate: 0, Nearest: 1 } as const;

export const CursorType = { Alpha: 0, Mono: 1, Color4: 2, Color8: 3, Color16: 4, Color24: 5, Color32: 6 } as const;
export const CursorFlags = { None: 1, CacheMe: 2, FromCache: 4 } as const;

export const KeyModifier = { ScrollLock: 1, NumLock: 2, CapsLock: 4 } as const;
export const MouseButton = { Left: 1, Middle: 2, Right: 3, Up: 4, Down: 5, Side: 6, Extra: 7 } as const;
export const MouseButtonMask = { Left: 1, Middle: 2, Right: 4, Up: 8, Down: 16, Side: 32, Extra: 64 } as const;

export const AudioDataMode = { Invalid: 0, Raw: 1, Celt051: 2, Opus: 3 } as const;
export const AudioFormat = { Invalid: 0, S16: 1 } as const;

/** spice-gtk and spice-html5 stop sending motion when 2 x this many are unacknowledged. */
export const MOTION_ACK_BUNCH = 4;
