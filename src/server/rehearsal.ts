import { SpiceClient } from '../client/client.js';
import { sameRgb } from '../display/pixels.js';
import type { Desktop } from '../display/desktop.js';
import { ChannelType } from '../protocol/constants.js';
import { RecordingSource } from '../sources/recording/index.js';
import { rehearsalSession } from '../sources/rehearsal.js';
import type { TimedSeamCommand } from '../sources/recording/spiced-format/index.js';
import type { CursorCommand, DisplayCommand } from '../seam/index.js';

/*
 * Why a server may serve a made-up session to itself before it listens. V8 compiles a function
 * only once it has run hot with stable object shapes, and every session, whatever its source,
 * runs the same pipeline: the seam, the desktop's surfaces, the display channel's items and pipe,
 * the encoders, the send loop, the stream and the TLS socket. In a fresh process the first viewer
 * paid for all of it: half of the server's CPU over a twm session was TurboFan compiling and code
 * not yet compiled (docs/performance.md). The small warm-up (channels/warm-up.ts) runs the
 * encoders on a desktop for nobody; this runs the whole path through the server's own objects
 * (the same desktop, channels and call sites a viewer reaches) to a viewer of its own over a
 * loopback connection of the kind the server will serve, then leaves the desktop empty again.
 */

export interface RehearsalStage {
  /** The server's desktop: drawn on, then emptied (surfaces destroyed, cursor reset). */
  readonly desktop: Desktop;
  /** A port of the server, opened for the rehearsal only. */
  readonly port: number;
  readonly secure: boolean;
  readonly password: string | undefined;
  /** True once the server's display channel has a viewer ready for draws. */
  readonly viewerReady: () => boolean;
}

/** Part of the made-up session: the player then steps through it as it does a preloaded recording. */
async function* sessionCommands(
  commands: readonly (DisplayCommand | CursorCommand)[],
): AsyncGenerator<TimedSeamCommand> {
  for (const command of commands) yield { timeNs: 0n, command };
}

/**
 * The session in two passes of the player. TurboFan compiles the player's loop while the first pass
 * runs, before it has ever ended: the end of that pass (code never run, so without type feedback)
 * threw the compiled loop away, and the first viewer's pass ran it uncompiled until it was compiled
 * again. The second pass compiles it with its end known, and keeps it.
 */
async function playInPasses(desktop: Desktop): Promise<void> {
  const commands = rehearsalSession();
  const half = Math.floor(commands.length / 2);
  for (const part of [commands.slice(0, half), commands.slice(half)]) {
    // An arrow, as the player's own default is: a field holding a function of another kind (a
    // generator) would give the player's objects another map than a real recording's.
    const source = new RecordingSource('rehearsal', { pace: 'asap' }, () => sessionCommands(part));
    await source.preload(Number.POSITIVE_INFINITY);
    source.start(desktop);
    try {
      await source.done;
    } finally {
      await source.stop();
    }
  }
}

/** Serve the made-up session to a loopback viewer until it shows the server's last frame. */
export async function rehearse(stage: RehearsalStage, timeoutMs = 30_000): Promise<void> {
  const client = new SpiceClient({
    port: stage.port,
    password: stage.password,
    tls: stage.secure ? { rejectUnauthorized: false } : undefined,
    channels: [ChannelType.Display, ChannelType.Cursor],
  });
  try {
    await client.connect();
    await client.waitFor(stage.viewerReady, timeoutMs, 'the rehearsal viewer');
    await playInPasses(stage.desktop);
    const last = stage.desktop.primary;
    await client.waitFor(
      () => last !== undefined && client.display.primary !== undefined && sameRgb(client.display.primary, last),
      timeoutMs,
      "the rehearsal's last frame",
    );
  } finally {
    client.close();
    stage.desktop.clear();
  }
}
