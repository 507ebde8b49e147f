import { MainMsg, MainMsgc } from './constants.js';
import { emptyBody, outMessage, type OutMessage } from './message.js';
import { Reader } from './reader.js';

/* Main channel (type 1), docs/protocol.md. */

export interface MainInit {
  sessionId: number;
  displayChannelsHint: number;
  supportedMouseModes: number;
  currentMouseMode: number;
  agentConnected: number;
  agentTokens: number;
  multiMediaTime: number;
  ramHint: number;
}

export interface ChannelId {
  type: number;
  id: number;
}

export type MainServerMessage =
  | ({ kind: 'init' } & MainInit) // 8 x u32 (32 bytes)
  | { kind: 'channelsList'; channels: ChannelId[] } // u32 n | {u8 type, u8 id}[n]
  | { kind: 'mouseMode'; supported: number; current: number } // u16 | u16
  | { kind: 'multiMediaTime'; time: number } // u32 ms
  | { kind: 'agentConnected' }
  | { kind: 'agentDisconnected'; error: number }
  | { kind: 'agentData'; data: Buffer }
  | { kind: 'agentToken'; numTokens: number }
  | { kind: 'name'; name: string } // u32 len (incl. NUL) | bytes
  | { kind: 'uuid'; uuid: Buffer } // 16 bytes
  | { kind: 'agentConnectedTokens'; numTokens: number }
  | { kind: 'migration'; type: number; body: Buffer }; // migration messages, kept opaque

export type MainClientMessage =
  | { kind: 'clientInfo'; cacheSize: bigint } // u64
  | { kind: 'attachChannels' } // empty
  | { kind: 'mouseModeRequest'; mode: number } // u16
  | { kind: 'agentStart'; numTokens: number } // u32
  | { kind: 'agentData'; data: Buffer } // VDAgentMessage chunk
  | { kind: 'agentToken'; numTokens: number } // u32
  | { kind: 'qualityIndicator'; data: Buffer }
  | { kind: 'migration'; type: number; body: Buffer }; // migrate_* replies: we never migrate

export function encodeMainInit(m: MainInit): OutMessage {
  const b = Buffer.allocUnsafe(32);
  [
    m.sessionId,
    m.displayChannelsHint,
    m.supportedMouseModes,
    m.currentMouseMode,
    m.agentConnected,
    m.agentTokens,
    m.multiMediaTime,
    m.ramHint,
  ].forEach((v, i) => b.writeUInt32LE(v >>> 0, 4 * i));
  return outMessage(MainMsg.Init, b);
}

export function encodeChannelsList(channels: readonly ChannelId[]): OutMessage {
  const b = Buffer.allocUnsafe(4 + 2 * channels.length);
  b.writeUInt32LE(channels.length, 0);
  channels.forEach((c, i) => {
    b[4 + 2 * i] = c.type;
    b[5 + 2 * i] = c.id;
  });
  return outMessage(MainMsg.ChannelsList, b);
}

export function encodeMouseMode(supported: number, current: number): OutMessage {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt16LE(supported, 0);
  b.writeUInt16LE(current, 2);
  return outMessage(MainMsg.MouseMode, b);
}

function u32Message(type: number, v: number): OutMessage {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(v >>> 0, 0);
  return outMessage(type, b);
}

export function encodeMultiMediaTime(time: number): OutMessage {
  return u32Message(MainMsg.MultiMediaTime, time);
}

/** NAME: spice-server counts the terminating NUL in name_len; spice-gtk strips it. */
export function encodeName(name: string): OutMessage {
  const text = Buffer.from(name + '\0', 'utf8');
  const b = Buffer.allocUnsafe(4 + text.length);
  b.writeUInt32LE(text.length, 0);
  text.copy(b, 4);
  return outMessage(MainMsg.Name, b);
}

export function encodeUuid(uuid: Buffer): OutMessage {
  if (uuid.length !== 16) throw new RangeError('a UUID is 16 bytes');
  return outMessage(MainMsg.Uuid, uuid);
}

export function encodeAgentDisconnected(error: number): OutMessage {
  return u32Message(MainMsg.AgentDisconnected, error);
}

/** AGENT_CONNECTED: the agent is (back) up; the client keeps the tokens it had. */
export function encodeAgentConnected(): OutMessage {
  return emptyBody(MainMsg.AgentConnected);
}

/** AGENT_CONNECTED_TOKENS (clients with MainCap.AgentConnectedTokens): the agent is up with fresh tokens. */
export function encodeAgentConnectedTokens(numTokens: number): OutMessage {
  return u32Message(MainMsg.AgentConnectedTokens, numTokens);
}

/** One chunk of a VDAgentMessage (at most 2048 bytes) from the agent to the client. */
export function encodeAgentData(chunk: Buffer): OutMessage {
  return outMessage(MainMsg.AgentData, chunk);
}

/** Tokens given back to the client: it may send that many more AGENT_DATA. */
export function encodeAgentToken(numTokens: number): OutMessage {
  return u32Message(MainMsg.AgentToken, numTokens);
}

export function decodeMainServerMessage(type: number, body: Buffer): MainServerMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case MainMsg.Init:
      return {
        kind: 'init',
        sessionId: r.u32(),
        displayChannelsHint: r.u32(),
        supportedMouseModes: r.u32(),
        currentMouseMode: r.u32(),
        agentConnected: r.u32(),
        agentTokens: r.u32(),
        multiMediaTime: r.u32(),
        ramHint: r.u32(),
      };
    case MainMsg.ChannelsList: {
      const n = r.u32();
      if (n > r.remaining / 2) return undefined;
      const channels: ChannelId[] = [];
      for (let i = 0; i < n; i++) channels.push({ type: r.u8(), id: r.u8() });
      return { kind: 'channelsList', channels };
    }
    case MainMsg.MouseMode:
      return { kind: 'mouseMode', supported: r.u16(), current: r.u16() };
    case MainMsg.MultiMediaTime:
      return { kind: 'multiMediaTime', time: r.u32() };
    case MainMsg.AgentConnected:
      return { kind: 'agentConnected' };
    case MainMsg.AgentDisconnected:
      return { kind: 'agentDisconnected', error: r.u32() };
    case MainMsg.AgentData:
      return { kind: 'agentData', data: r.rest() };
    case MainMsg.AgentToken:
      return { kind: 'agentToken', numTokens: r.u32() };
    case MainMsg.Name: {
      const len = r.u32();
      return { kind: 'name', name: r.bytes(len).toString('utf8').replace(/\0+$/, '') };
    }
    case MainMsg.Uuid:
      return { kind: 'uuid', uuid: r.bytes(16) };
    case MainMsg.AgentConnectedTokens:
      return { kind: 'agentConnectedTokens', numTokens: r.u32() };
    case MainMsg.MigrateBegin:
    case MainMsg.MigrateCancel:
    case MainMsg.MigrateSwitchHost:
    case MainMsg.MigrateEnd:
    case MainMsg.MigrateBeginSeamless:
    case MainMsg.MigrateDstSeamlessAck:
    case MainMsg.MigrateDstSeamlessNack:
      return { kind: 'migration', type, body };
    default:
      return undefined;
  }
}

export function encodeAttachChannels(): OutMessage {
  return emptyBody(MainMsgc.AttachChannels);
}

export function encodeMouseModeRequest(mode: number): OutMessage {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16LE(mode, 0);
  return outMessage(MainMsgc.MouseModeRequest, b);
}

export function encodeAgentStart(numTokens: number): OutMessage {
  return u32Message(MainMsgc.AgentStart, numTokens);
}

/** Client side (tests, the project's client): one chunk towards the agent. */
export function encodeAgentDataToServer(chunk: Buffer): OutMessage {
  return outMessage(MainMsgc.AgentData, chunk);
}

export function encodeAgentTokenToServer(numTokens: number): OutMessage {
  return u32Message(MainMsgc.AgentToken, numTokens);
}

export function decodeMainClientMessage(type: number, body: Buffer): MainClientMessage | undefined {
  const r = new Reader(body);
  switch (type) {
    case MainMsgc.ClientInfo:
      return { kind: 'clientInfo', cacheSize: r.u64() };
    case MainMsgc.AttachChannels:
      return { kind: 'attachChannels' };
    case MainMsgc.MouseModeRequest:
      return { kind: 'mouseModeRequest', mode: r.u16() };
    case MainMsgc.AgentStart:
      return { kind: 'agentStart', numTokens: r.u32() };
    case MainMsgc.AgentData:
      return { kind: 'agentData', data: r.rest() };
    case MainMsgc.AgentToken:
      return { kind: 'agentToken', numTokens: r.u32() };
    case MainMsgc.QualityIndicator:
      return { kind: 'qualityIndicator', data: r.rest() };
    case MainMsgc.MigrateConnected:
    case MainMsgc.MigrateConnectError:
    case MainMsgc.MigrateEnd:
    case MainMsgc.MigrateDstDoSeamless:
    case MainMsgc.MigrateConnectedSeamless:
      return { kind: 'migration', type, body };
    default:
      return undefined;
  }
}
