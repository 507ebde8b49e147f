import { ChannelType, LinkErr } from '../protocol/constants.js';
import { ProtocolError } from '../protocol/errors.js';
import { LinkRefusedError } from '../client/link.js';

export interface Diagnosis {
  /** What the page says. */
  message: string;
  /** The password form comes back (the server wants a password, or another one). */
  askPassword: boolean;
  /** Trying again later may work (the network, a restarting server, a full server). */
  retry: boolean;
}

/** Why a session ended, as the page knows it. */
export interface Ending {
  err: Error;
  /** The channel whose link or connection failed (undefined when not known). */
  channel: number | undefined;
  /** The page sent a password this time (a refusal then means a wrong one, not a missing one). */
  gavePassword: boolean;
}

/**
 * The SpiceLinkErr behind an error: the server's refusal, or what our own link code found wrong
 * in the server's answer (a link header of another SPICE version, or no SPICE at all).
 */
function linkErrorOf(err: Error): number | undefined {
  if (err instanceof LinkRefusedError) return err.linkError;
  if (err instanceof ProtocolError) return err.linkError;
  return undefined;
}

/** What a link error means to the person at the page, and what the page does next. */
export function diagnose(e: Ending): Diagnosis {
  const code = linkErrorOf(e.err);
  if (code === undefined) return { message: `Disconnected: ${e.err.message}`, askPassword: false, retry: true };
  const fatal = (message: string): Diagnosis => ({ message, askPassword: false, retry: false });
  const again = (message: string): Diagnosis => ({ message, askPassword: false, retry: true });
  switch (code) {
    case LinkErr.PermissionDenied:
      return {
        message: e.gavePassword
          ? 'Wrong password (or too many tries from here: wait and try again).'
          : 'This server needs a password.',
        askPassword: true,
        retry: false,
      };
    case LinkErr.NeedSecured:
      return fatal('This server accepts this channel only over TLS: open the page from its TLS port (https://).');
    case LinkErr.NeedUnsecured:
      return fatal('This server accepts this channel only without TLS: open the page from its plain port (http://).');
    case LinkErr.VersionMismatch:
      return fatal('The server speaks a SPICE protocol version this viewer does not (version mismatch).');
    case LinkErr.InvalidMagic:
      return fatal('This port does not speak SPICE as this viewer does (invalid magic).');
    case LinkErr.InvalidData:
      return fatal('The server did not understand this viewer (invalid link data).');
    case LinkErr.BadConnectionId:
      return again('The session ended on the server (bad connection id)');
    case LinkErr.ChannelNotAvailable:
      // On the main channel it is spiced's answer to one viewer more than --max-viewers.
      return e.channel === ChannelType.Main
        ? again('The server is full: it takes no more viewers now')
        : again('The server refused a channel it had offered (channel not available)');
    case LinkErr.Error:
      return again('The server could not link this viewer (an error on its side)');
    default:
      return again(`The server refused the link: ${e.err.message}`);
  }
}
