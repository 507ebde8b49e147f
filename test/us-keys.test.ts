import { describe, expect, it } from 'vitest';
import { forEachUsKey, usKeyFor } from '../src/protocol/us-keys.js';
import { Keyboard } from '../src/sources/demo/keymap.js';

describe('the US layout in scan-code set 1', () => {
  it('finds the key and the Shift state for characters', () => {
    expect(usKeyFor('a')).toEqual({ scancode: 0x1e, shift: false });
    expect(usKeyFor('A')).toEqual({ scancode: 0x1e, shift: true });
    expect(usKeyFor('0')).toEqual({ scancode: 0x0b, shift: false });
    expect(usKeyFor('?')).toEqual({ scancode: 0x35, shift: true });
    expect(usKeyFor('\n')).toEqual({ scancode: 0x1c, shift: false });
    expect(usKeyFor('é')).toBeUndefined();
  });

  it('is the demo terminal keyboard: each key types its own character back', () => {
    let keys = 0;
    forEachUsKey((scancode, plain) => {
      keys++;
      const kb = new Keyboard();
      expect(kb.key(scancode, true)).toEqual({ kind: 'char', ch: plain });
    });
    expect(keys).toBe(48);
  });
});
