import { describe, expect, it } from 'vitest';
import { AuthThrottle, DEFAULT_THROTTLE } from '../src/server/auth-throttle.js';
import { peerAddressKey as throttleKey } from '../src/util/address.js';

/* The back-off policy on its own clock (times in ms); auth.test.ts checks it over real sockets. */

const T0 = 1_000_000;

describe('ticket throttle', () => {
  it('after 5 wrong tickets waits 1 s, doubling with each further failure up to 30 s; a right one clears it', () => {
    const t = new AuthThrottle(DEFAULT_THROTTLE, T0);
    const waits = [];
    let now = T0;
    for (let i = 0; i < 12; i++) {
      expect(t.admit('10.0.0.1', now)).toBe('ok');
      const wait = t.record('10.0.0.1', false, now);
      waits.push(wait);
      expect(t.admit('10.0.0.1', now + wait - 1)).toBe(wait > 0 ? 'address' : 'ok');
      now += wait + 100; // plenty for the global ceiling to refill too
    }
    expect(waits).toEqual([0, 0, 0, 0, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    t.record('10.0.0.1', true, now);
    expect(t.admit('10.0.0.1', now)).toBe('ok');
    expect(t.record('10.0.0.1', false, now)).toBe(0);
  });

  it('caps the global rate for addresses that have not logged in, but not for one that has', () => {
    const t = new AuthThrottle({ ...DEFAULT_THROTTLE, globalPerSecond: 10, globalBurst: 20 }, T0);
    t.record('10.0.0.9', true, T0);
    const admitted = Array.from({ length: 50 }, (_, i) => t.admit(`10.1.${i}.1`, T0)).filter((a) => a === 'ok').length;
    expect(admitted).toBe(20);
    expect(t.peek('10.2.0.1', T0)).toBe('global');
    expect(t.admit('10.0.0.9', T0)).toBe('ok');
    expect(t.admit('10.2.0.1', T0 + 100)).toBe('ok'); // a token a tenth of a second
  });

  it('remembers a bounded number of addresses and forgets old failures', () => {
    const t = new AuthThrottle({ ...DEFAULT_THROTTLE, maxAddresses: 3 }, T0);
    for (let i = 0; i < 100; i++) t.record(`10.3.0.${i}`, false, T0);
    expect(t.size).toBe(3);
    for (let i = 0; i < 5; i++) t.record('10.4.0.1', false, T0);
    expect(t.peek('10.4.0.1', T0 + 500)).toBe('address');
    // 15 minutes after its last failure the address starts afresh.
    expect(t.peek('10.4.0.1', T0 + DEFAULT_THROTTLE.forgetAfterMs)).toBe('ok');
    expect(t.record('10.4.0.1', false, T0 + DEFAULT_THROTTLE.forgetAfterMs)).toBe(0);
  });

  it('counts by IPv4 address (also IPv4-mapped) and by IPv6 /64', () => {
    expect(throttleKey('127.0.0.2:5555')).toBe('127.0.0.2');
    expect(throttleKey('[::ffff:192.0.2.7]:1')).toBe('192.0.2.7');
    expect(throttleKey('[2001:db8:1:2:aaaa::1]:1')).toBe('2001:db8:1:2::/64');
    expect(throttleKey('[2001:db8:1:2::ffff]:1')).toBe('2001:db8:1:2::/64');
    expect(throttleKey('[::1]:1')).toBe('0:0:0:0::/64');
  });
});
