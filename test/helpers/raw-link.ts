import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import net from 'node:net';
import { capWords } from '../../src/protocol/caps.js';
import { AuthMechanism, ChannelType, CommonCap } from '../../src/protocol/constants.js';
import {
  decodeLinkReply,
  encodeLinkMess,
  encodeU32,
  LINK_HEADER_SIZE,
  type LinkMess,
} from '../../src/protocol/link.js';

/** The main channel's link message as spice-gtk sends it (AUTH_SELECTION and MINI_HEADER). */
const MAIN_MESS: LinkMess = {
  connectionId: 0,
  channelType: ChannelType.Main,
  channelId: 0,
  commonCaps: capWords([CommonCap.ProtocolAuthSelection, CommonCap.AuthSpice, CommonCap.MiniHeader]),
  channelCaps: [],
};
const MAIN_LINK = encodeLinkMess(MAIN_MESS);

/** A ticket for `password` under the SPKI key a link reply offered. */
export function encryptTicket(pubKey: Buffer, password: string): Buffer {
  const key = createPublicKey({ key: pubKey, format: 'der', type: 'spki' });
  const plain = Buffer.from(password + '\0');
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, plain);
}

export interface RawLinkOutcome {
  /** The key the server offered. */
  pubKey: Buffer;
  /** The 4-byte link result (SpiceLinkErr). */
  result: number;
  /** Milliseconds from sending the link message to the reply's arrival. */
  replyMs: number;
}

/**
 * Link the main channel (or the channel `link` names) by hand over a real socket from `localAddress`: send the link message,
 * read the reply, send AUTH_SPICE and the ticket `ticketFor` makes from the offered key, and read
 * the link result.
 */
export function rawLink(
  port: number,
  ticketFor: (pubKey: Buffer) => Buffer,
  localAddress = '127.0.0.1',
  link: Partial<LinkMess> = {},
): Promise<RawLinkOutcome> {
  const linkMess = Object.keys(link).length === 0 ? MAIN_LINK : encodeLinkMess({ ...MAIN_MESS, ...link });
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true });
    let buf = Buffer.alloc(0);
    let sentAt = 0;
    let reply: { pubKey: Buffer; end: number; replyMs: number } | undefined;
    const timer = setTimeout(() => finish(new Error('no link result within 5 s')), 5000);
    const finish = (err: Error | undefined, outcome?: RawLinkOutcome): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(outcome!);
    };
    sock.on('connect', () => {
      sentAt = performance.now();
      sock.write(linkMess);
    });
    sock.on('error', (err) => finish(err));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!reply && buf.length >= LINK_HEADER_SIZE) {
        const end = LINK_HEADER_SIZE + buf.readUInt32LE(12);
        if (buf.length < end) return;
        const decoded = decodeLinkReply(buf.subarray(LINK_HEADER_SIZE, end));
        const replyMs = performance.now() - sentAt;
        if (decoded.error !== 0) return finish(undefined, { pubKey: Buffer.alloc(0), result: decoded.error, replyMs });
        reply = { pubKey: decoded.pubKey, end, replyMs };
        sock.write(Buffer.concat([encodeU32(AuthMechanism.Spice), ticketFor(decoded.pubKey)]));
      }
      if (!reply || buf.length < reply.end + 4) return;
      finish(undefined, { pubKey: reply.pubKey, result: buf.readUInt32LE(reply.end), replyMs: reply.replyMs });
    });
  });
}
