import { Option, type Command } from 'commander';
import { DEFAULT_KEEPALIVE } from '../transport/keepalive.js';
import { parseKeepAlive, parseNonNegative, parsePositive, parsePositiveInteger } from './options.js';

/**
 * The options that decide how long a connection may take before it has authenticated, how many
 * may wait at once, and when a viewer is taken for gone (issue 12's deadlines and caps).
 */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option(
      '--pre-auth-timeout <seconds>',
      'deadline of each step before a viewer has authenticated (TLS handshake, first bytes, HTTP request, link)',
      parsePositive,
      10,
    )
    .option(
      '--max-pre-auth <n>',
      'connections waiting to authenticate at once; past it the oldest of the busiest address is closed',
      parsePositiveInteger,
      512,
    )
    .option(
      '--max-pre-auth-per-address <n>',
      'connections waiting to authenticate at once from one address (IPv6: one /64); more are refused',
      parsePositiveInteger,
      32,
    )
    .option('--ping-interval <seconds>', 'seconds between PINGs to each viewer (0: only one)', parseNonNegative, 15)
    .option(
      '--ping-timeout <seconds>',
      'close a viewer that leaves a PING unanswered this long (0: never)',
      parseNonNegative,
      30,
    )
    .option(
      '--drain-timeout <seconds>',
      'close a viewer whose socket has unsent data and takes none of it this long, whatever it sends',
      parsePositive,
      30,
    )
    .addOption(
      new Option('--keepalive <idle,interval,count>', 'TCP keepalive: idle s, s between probes, lost probes; or off')
        .argParser(parseKeepAlive)
        .default(DEFAULT_KEEPALIVE, '30,10,3'),
    );
}
