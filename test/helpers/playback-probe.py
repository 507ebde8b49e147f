#!/usr/bin/python3
"""Connect spice-gtk (SpiceClientGLib) to a SPICE server and report what its PlaybackChannel
emits: playback-start (format, channels, rate) and every playback-data (bytes), as JSON.
Usage: playback-probe.py HOST PORT SECONDS. Run with Debian's /usr/bin/python3 (python3-gi)."""
import json, sys, time

import gi
gi.require_version('SpiceClientGLib', '2.0')
from gi.repository import GLib, GObject, SpiceClientGLib as S  # noqa: E402


def main():
    host, port, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    loop = GLib.MainLoop()
    sess = S.Session()
    sess.set_property('host', host)
    sess.set_property('port', port)
    # Audio must stay enabled: spice-gtk does not even create the playback channel otherwise.
    # Without a sound server it plays nowhere, but the channel and its signals work.
    t0 = time.monotonic()
    st = {'start': None, 'data_packets': 0, 'data_bytes': 0, 'first_data_s': None, 'last_data_s': None, 'max_gap_s': 0.0, 'stops': 0}

    def on_start(ch, fmt, channels, rate):
        st['start'] = {'format': fmt, 'channels': channels, 'rate': rate}

    def on_data(ch, data, size):
        now = time.monotonic() - t0
        if st['last_data_s'] is not None:
            st['max_gap_s'] = max(st['max_gap_s'], now - st['last_data_s'])
        if st['first_data_s'] is None:
            st['first_data_s'] = now
        st['last_data_s'] = now
        st['data_packets'] += 1
        st['data_bytes'] += size

    def on_stop(ch):
        st['stops'] += 1

    def on_new(s, ch):
        if isinstance(ch, S.PlaybackChannel):
            GObject.Object.connect(ch, 'playback-start', on_start)
            GObject.Object.connect(ch, 'playback-data', on_data)
            GObject.Object.connect(ch, 'playback-stop', on_stop)
            S.Channel.connect(ch)

    GObject.Object.connect(sess, 'channel-new', on_new)
    if not sess.connect():
        print(json.dumps({'error': 'connect failed'}))
        return 2
    GLib.timeout_add(int(seconds * 1000), loop.quit)
    loop.run()
    sess.disconnect()
    print(json.dumps(st))
    return 0


if __name__ == '__main__':
    sys.exit(main())
