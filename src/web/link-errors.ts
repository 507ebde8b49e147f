import { LinkErr } from '../protocol/constants.js';
import { LinkRefusedError } from '../client/link.js';

export interface Diagnosis {
  /** What the page says. */
  message: string;
  /** The password form comes back (the server wants a password, or another one). */
  askPassword: boolean;
  /** Trying again later may work (the network, a restarting server). */
  retry: boolean;
}

/** What a link error means to the person at the page, and what the page does next. */
export function diagnose(err: Error, gavePassword: boolean): Diagnosis {
  if (!(err instanceof LinkRefusedError)) {
    return { message: `Disconnected: ${err.message}`, askPassword: false, retry: true };
  }
  switch (err.linkError) {
    case LinkErr.PermissionDenied:
      return {
        message: gavePassword
          ? 'Wrong password (or too many tries from here: wait and try again).'
          : 'This server needs a password.',
        askPassword: true,
        retry: false,
      };
    case LinkErr.NeedSecured:
      return {
        message: 'This server accepts this channel only over TLS: open the page from its TLS port (https://).',
        askPassword: false,
        retry: false,
      };
    case LinkErr.NeedUnsecured:
      return {
        message: 'This server accepts this channel only without TLS: open the page from its plain port (http://).',
        askPassword: false,
        retry: false,
      };
    case LinkErr.VersionMismatch:
      return { message: 'The server speaks a SPICE version this viewer does not.', askPassword: false, retry: false };
    case LinkErr.InvalidMagic:
    case LinkErr.InvalidData:
      return {
        message: 'The server did not understand this viewer (invalid link data).',
        askPassword: false,
        retry: false,
      };
    case LinkErr.BadConnectionId:
      return {
        message: 'The session ended on the server (bad connection id): reconnecting.',
        askPassword: false,
        retry: true,
      };
    case LinkErr.ChannelNotAvailable:
      return { message: 'The server has no such channel now: reconnecting.', askPassword: false, retry: true };
    default:
      return { message: `The server refused the link: ${err.message}`, askPassword: false, retry: true };
  }
}
