import { describe, expect, it } from 'vitest';
import { deliverCommand, type DisplaySink, type SeamCommand } from '../src/seam/index.js';
import { everyKind } from './helpers/recordings.js';

/** A sink that notes which method each command reached. */
function methodLog(withAudio: boolean): DisplaySink & { calls: string[] } {
  const calls: string[] = [];
  const note = (method: string) => (c: SeamCommand) => calls.push(`${method}:${c.kind}`);
  const sink = { calls, display: note('display'), cursor: note('cursor') };
  return withAudio ? { ...sink, audio: note('audio') } : sink;
}

describe('deliverCommand', () => {
  it('hands each kind to its own sink method, in order', () => {
    const sink = methodLog(true);
    const commands = everyKind();
    for (const c of commands) deliverCommand(sink, c);
    const expected = commands.map((c) => {
      const method = c.kind.startsWith('cursor') ? 'cursor' : c.kind.startsWith('audio') ? 'audio' : 'display';
      return `${method}:${c.kind}`;
    });
    expect(sink.calls).toEqual(expected);
    expect(new Set(sink.calls.map((c) => c.split(':')[0]))).toEqual(new Set(['display', 'cursor', 'audio']));
  });

  it('drops sound for a sink that carries none', () => {
    const sink = methodLog(false);
    deliverCommand(sink, { kind: 'audioStart' });
    deliverCommand(sink, { kind: 'cursorHide' });
    expect(sink.calls).toEqual(['cursor:cursorHide']);
  });
});
