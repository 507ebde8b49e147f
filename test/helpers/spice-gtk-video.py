#!/usr/bin/python3
"""A spice-gtk viewer (SpiceClientGLib, no display server) that takes screenshots when told: for the
video stream tests, which need the viewer's picture while a stream plays and after it ended.

Prints 'ready' once display 0 has a primary surface and a MARK. Then reads commands on stdin:
'shot PATH' saves the surface as PNG and prints 'saved PATH'; 'quit' disconnects. Run it with
SPICE_DEBUG=1 to see spice-gtk's stream messages on stderr.

  /usr/bin/python3 spice-gtk-video.py --port 5900

Needs Debian's python3-gi and gir1.2-spiceclientglib-2.0 (run with /usr/bin/python3).
"""
import argparse
import os
import sys

import gi
gi.require_version('SpiceClientGLib', '2.0')
from gi.repository import GLib, GObject, SpiceClientGLib as S  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
spice_gtk_client = __import__('spice-gtk-client')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', required=True)
    ap.add_argument('--timeout', type=float, default=60)
    a = ap.parse_args()

    loop = GLib.MainLoop()
    session = S.Session()
    session.set_property('host', a.host)
    session.set_property('port', a.port)
    display = {'primary': None, 'address': None, 'ready': False}

    def say(line):
        print(line, flush=True)

    def on_primary(_channel, fmt, width, height, stride, _shmid, address):
        display['primary'] = (fmt, width, height, stride)
        display['address'] = address

    def on_mark(_channel, mark):
        if mark and display['primary'] and not display['ready']:
            display['ready'] = True
            say('ready')

    def on_new_channel(_session, channel):
        if isinstance(channel, S.MainChannel):
            return
        if isinstance(channel, S.DisplayChannel) and channel.get_property('channel-id') == 0:
            GObject.Object.connect(channel, 'display-primary-create', on_primary)
            GObject.Object.connect(channel, 'display-mark', on_mark)
        S.Channel.connect(channel)

    def on_command(source, _condition):
        line = source.readline()
        if not line or line.strip() == 'quit':
            loop.quit()
            return False
        verb, _, arg = line.strip().partition(' ')
        if verb == 'shot' and display['primary']:
            _fmt, width, height, stride = display['primary']
            spice_gtk_client.write_png(arg, width, height, stride, display['address'])
            say('saved ' + arg)
        else:
            say('error ' + line.strip())
        return True

    GObject.Object.connect(session, 'channel-new', on_new_channel)
    if not session.connect():
        say('error spice_session_connect failed')
        return 2
    GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, on_command)
    GLib.timeout_add(int(a.timeout * 1000), loop.quit)
    loop.run()
    session.disconnect()
    return 0


if __name__ == '__main__':
    sys.exit(main())
