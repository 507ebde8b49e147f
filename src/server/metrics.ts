import type { ChannelClient } from '../channel-core/channel-client.js';
import { encodeStats } from '../channels/display-items.js';
import { DisplayChannelClient } from '../channels/display.js';
import { PlaybackChannelClient } from '../channels/playback.js';
import { channelName } from '../protocol/constants.js';
import type { SpiceServer } from './server.js';

/**
 * The server's counters in Prometheus' text format (exposition format 0.0.4), for `/metrics` on
 * `--metrics-port`. Counters only grow: a connection's totals are kept per channel when it closes,
 * and live connections are added at each scrape, so a scrape costs a walk over the connections
 * (and one TCP_INFO read each, for packets), nothing on the write path.
 */

/** What one connection (or all closed ones of a channel) has sent. */
interface Traffic {
  messages: number;
  bytes: number;
  wireBytes: number;
  packets: number;
  tlsRecords: number;
  flushes: number;
  /** Display: draws collapsed into damage for a lagging viewer; playback: audio frames dropped. */
  dropped: number;
}

const ZERO: Traffic = { messages: 0, bytes: 0, wireBytes: 0, packets: 0, tlsRecords: 0, flushes: 0, dropped: 0 };

function trafficOf(c: ChannelClient): Traffic {
  const s = c.stream.snapshot();
  const t = c.stream.tcpInfo();
  return {
    messages: s.messages,
    bytes: s.plaintextBytes,
    wireBytes: s.wireBytes,
    // Data and pure ACK segments, retransmissions left out; 0 where TCP_INFO cannot be read.
    packets: t ? t.segsOut - t.totalRetrans : 0,
    tlsRecords: s.tlsRecords,
    flushes: s.flushes,
    dropped: droppedBy(c),
  };
}

function droppedBy(c: ChannelClient): number {
  if (c instanceof DisplayChannelClient) return c.damagedCommands;
  if (c instanceof PlaybackChannelClient) return c.droppedFrames;
  return 0;
}

function add(into: Traffic, from: Traffic): Traffic {
  return {
    messages: into.messages + from.messages,
    bytes: into.bytes + from.bytes,
    wireBytes: into.wireBytes + from.wireBytes,
    packets: into.packets + from.packets,
    tlsRecords: into.tlsRecords + from.tlsRecords,
    flushes: into.flushes + from.flushes,
    dropped: into.dropped + from.dropped,
  };
}

/** One metric family: HELP, TYPE and its samples. */
interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: { labels?: Record<string, string>; value: number }[];
}

function formatLabels(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return `{${parts.join(',')}}`;
}

function formatFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples)
      lines.push(`${f.name}${formatLabels(s.labels)} ${Number.isFinite(s.value) ? s.value : 0}`);
  }
  return lines.join('\n') + '\n';
}

export class ServerMetrics {
  /** Totals of the connections that have closed, by channel name. */
  private readonly closed = new Map<string, Traffic>();

  constructor(private readonly server: SpiceServer) {
    server.onConnectionClosed((c) => {
      const name = channelName(c.channelType);
      this.closed.set(name, add(this.closed.get(name) ?? ZERO, trafficOf(c)));
    });
  }

  /** The text a scrape of /metrics returns. */
  render(): string {
    const live = this.server.clients().filter((c) => !c.stream.destroyed);
    const traffic = new Map(this.closed);
    const pipes = new Map<string, PipeLoad>();
    for (const c of live) {
      const name = channelName(c.channelType);
      traffic.set(name, add(traffic.get(name) ?? ZERO, trafficOf(c)));
      const p = pipes.get(name) ?? { connections: 0, items: 0, max: 0 };
      pipes.set(name, {
        connections: p.connections + 1,
        items: p.items + c.pipe.length,
        max: Math.max(p.max, c.pipe.length),
      });
    }
    return formatFamilies([
      ...this.viewerFamilies(),
      ...perChannel(traffic, TRAFFIC),
      ...perChannel(pipes, PIPES),
      ...this.serverFamilies(),
    ]);
  }

  private viewerFamilies(): Family[] {
    const v = this.server.viewerCounts();
    return [
      {
        name: 'spiced_viewers',
        help: 'Viewers (sessions) connected now, by role.',
        type: 'gauge',
        samples: [
          { labels: { role: 'control' }, value: v.control },
          { labels: { role: 'view' }, value: v.view },
        ],
      },
    ];
  }

  private serverFamilies(): Family[] {
    const auth = this.server.auth;
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return [
      {
        name: 'spiced_images_encoded_total',
        help: 'Images encoded for viewers (each once, shared by every viewer).',
        type: 'counter',
        samples: [{ value: encodeStats.images }],
      },
      {
        name: 'spiced_image_encode_seconds_total',
        help: 'Time spent encoding those images.',
        type: 'counter',
        samples: [{ value: encodeStats.ms / 1000 }],
      },
      {
        name: 'spiced_auth_failures_total',
        help: 'Tickets refused: wrong (decrypted and refused) or unchecked (address backing off, global ceiling).',
        type: 'counter',
        samples: [
          { labels: { kind: 'wrong' }, value: auth.wrongTickets },
          { labels: { kind: 'unchecked' }, value: auth.stats.unchecked },
        ],
      },
      {
        name: 'process_resident_memory_bytes',
        help: 'Resident set size.',
        type: 'gauge',
        samples: [{ value: mem.rss }],
      },
      {
        name: 'process_cpu_seconds_total',
        help: 'User and system CPU time of the process.',
        type: 'counter',
        samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
      },
    ];
  }
}

/** A family with one sample per channel: its name, help and type, and how to read its value. */
type PerChannel<T> = [name: string, help: string, type: Family['type'], pick: (t: T) => number];

function perChannel<T>(rows: Map<string, T>, specs: PerChannel<T>[]): Family[] {
  return specs.map(([name, help, type, pick]) => ({
    name,
    help,
    type,
    samples: [...rows].map(([channel, t]) => ({ labels: { channel }, value: pick(t) })),
  }));
}

const TRAFFIC: PerChannel<Traffic>[] = [
  ['spiced_sent_messages_total', 'SPICE messages sent, by channel.', 'counter', (t) => t.messages],
  [
    'spiced_sent_bytes_total',
    'SPICE bytes sent (headers included, before TLS), by channel.',
    'counter',
    (t) => t.bytes,
  ],
  [
    'spiced_wire_bytes_total',
    'Bytes handed to the kernel (ciphertext over TLS), by channel.',
    'counter',
    (t) => t.wireBytes,
  ],
  [
    'spiced_sent_packets_total',
    'TCP segments sent less retransmissions (TCP_INFO; 0 where unavailable), by channel.',
    'counter',
    (t) => t.packets,
  ],
  ['spiced_tls_records_total', 'TLS records sent, by channel.', 'counter', (t) => t.tlsRecords],
  ['spiced_flushes_total', 'Pipe flushes (ends of a batch of messages), by channel.', 'counter', (t) => t.flushes],
  [
    'spiced_dropped_total',
    'Display: draws collapsed into damage for a lagging viewer; playback: audio frames dropped.',
    'counter',
    (t) => t.dropped,
  ],
];

interface PipeLoad {
  connections: number;
  items: number;
  max: number;
}

const PIPES: PerChannel<PipeLoad>[] = [
  ['spiced_connections', 'Channel connections open now, by channel.', 'gauge', (p) => p.connections],
  ['spiced_pipe_items', "Items waiting in the pipes of a channel's connections, summed.", 'gauge', (p) => p.items],
  ['spiced_pipe_items_max', 'Items waiting in the fullest pipe of a channel.', 'gauge', (p) => p.max],
];
