#!/usr/bin/python3
"""A scriptable spice-gtk viewer for the interop tests: SpiceClientGLib (the library behind
remote-viewer and spicy) driven from Python, with no display server.

It opens every channel the server offers, waits until display 0 has a primary surface, a MARK and
no invalidate for --settle seconds, and saves the surface as PNG (--out). With --type TEXT it then
types TEXT through the inputs channel, waits for the display to settle again and saves --out2.
Prints a JSON report; exits 0 only when every capture asked for was written.

  /usr/bin/python3 spice-gtk-client.py --uri spice://127.0.0.1:5900 --out shot.png [--type 'ls\\n']
  /usr/bin/python3 spice-gtk-client.py --uri 'spice://127.0.0.1?tls-port=5901' --ca-file ca.pem --out s.png

Needs Debian's python3-gi and gir1.2-spiceclientglib-2.0 (run with /usr/bin/python3).
"""
import argparse
import ctypes
import json
import struct
import sys
import time
import zlib

import gi
gi.require_version('SpiceClientGLib', '2.0')
from gi.repository import GLib, GObject, SpiceClientGLib as S  # noqa: E402

# PC/AT set 1 make codes (spice-gtk's key_press_and_release takes these).
SCANCODES = {c: 0x10 + i for i, c in enumerate('qwertyuiop')}
SCANCODES.update({c: 0x1e + i for i, c in enumerate('asdfghjkl')})
SCANCODES.update({c: 0x2c + i for i, c in enumerate('zxcvbnm')})
SCANCODES.update({str((i + 1) % 10): 0x02 + i for i in range(10)})
SCANCODES.update({' ': 0x39, '\n': 0x1c, '-': 0x0c, '.': 0x34, '/': 0x35})

SURFACE_FORMATS = (32, 96)  # SPICE_SURFACE_FMT_32_xRGB and _32_ARGB: BGRX bytes in memory


def write_png(path, width, height, stride, address):
    """The surface at `address` (32-bit little-endian pixels) as an 8-bit RGB PNG."""
    raw = ctypes.string_at(address, stride * height)
    rows = bytearray()
    for y in range(height):
        row = raw[y * stride:y * stride + width * 4]
        rgb = bytearray(width * 3)
        rgb[0::3] = row[2::4]
        rgb[1::3] = row[1::4]
        rgb[2::3] = row[0::4]
        rows += b'\0' + rgb

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))

    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(bytes(rows), 6)) + chunk(b'IEND', b''))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--uri')
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port')
    ap.add_argument('--tls-port')
    ap.add_argument('--password')
    ap.add_argument('--ca-file')
    ap.add_argument('--secure-channels', help='"all" or a comma list (main,display,...)')
    ap.add_argument('--out', default='spice-gtk-client.png')
    ap.add_argument('--out2', help='capture after --type (default: OUT with -2 before .png)')
    ap.add_argument('--type', dest='text', help='text to type after the first capture')
    ap.add_argument('--settle', type=float, default=0.5, help='quiet seconds after the last invalidate')
    ap.add_argument('--timeout', type=float, default=20)
    ap.add_argument('--hold', type=float, default=0, help='stay connected this long after the last capture')
    a = ap.parse_args()

    t0 = time.monotonic()
    loop = GLib.MainLoop()
    session = S.Session()
    if a.uri:
        session.set_property('uri', a.uri)
    else:
        session.set_property('host', a.host)
        if a.port:
            session.set_property('port', a.port)
        if a.tls_port:
            session.set_property('tls-port', a.tls_port)
    for prop, value in (('password', a.password), ('ca-file', a.ca_file)):
        if value:
            session.set_property(prop, value)
    if a.secure_channels:
        session.set_property('secure-channels', a.secure_channels.split(','))

    report = {'channels': [], 'primary': None, 'invalidates': 0, 'marks': 0, 'captured': False, 'error': None}
    channels = []
    display = {'address': None, 'marked': False, 'last_invalidate': None}
    captures = [a.out] + ([a.out2 or a.out.replace('.png', '') + '-2.png'] if a.text else [])
    done = []

    def fail(why):
        report['error'] = report['error'] or why
        loop.quit()

    def on_channel_event(channel, event):
        # A main channel that closes or errs before the captures means the session failed (e.g. a
        # refused password: the event names it).
        if isinstance(channel, S.MainChannel) and event not in (S.ChannelEvent.OPENED, S.ChannelEvent.SWITCHING) and len(done) < len(captures):
            fail('main channel event %s' % S.ChannelEvent(event).value_nick)

    def on_primary(channel, fmt, width, height, stride, shmid, address):
        report['primary'] = {'format': fmt, 'width': width, 'height': height, 'stride': stride}
        display['address'] = address

    def on_invalidate(channel, x, y, w, h):
        report['invalidates'] += 1
        display['last_invalidate'] = time.monotonic()

    def on_mark(channel, mark):
        report['marks'] += 1
        display['marked'] = bool(mark)

    def on_new_channel(_session, channel):
        kind = S.Channel.type_to_string(channel.get_property('channel-type'))
        report['channels'].append({'type': kind, 'id': channel.get_property('channel-id')})
        channels.append(channel)
        GObject.Object.connect(channel, 'channel-event', on_channel_event)
        if isinstance(channel, S.MainChannel):
            return  # Session.connect() opens it
        if isinstance(channel, S.DisplayChannel) and channel.get_property('channel-id') == 0:
            GObject.Object.connect(channel, 'display-primary-create', on_primary)
            GObject.Object.connect(channel, 'display-invalidate', on_invalidate)
            GObject.Object.connect(channel, 'display-mark', on_mark)
        S.Channel.connect(channel)

    def settled():
        last = display['last_invalidate']
        return report['primary'] and display['marked'] and last is not None and time.monotonic() - last >= a.settle

    def capture():
        p = report['primary']
        if p['format'] not in SURFACE_FORMATS:
            fail('unsupported surface format %d' % p['format'])
            return
        write_png(captures[len(done)], p['width'], p['height'], p['stride'], display['address'])
        done.append(round((time.monotonic() - t0) * 1000))

    def type_text():
        inputs = next((c for c in channels if isinstance(c, S.InputsChannel)), None)
        if inputs is None:
            fail('no inputs channel to type with')
            return
        display['last_invalidate'] = None  # the next capture waits for the display to change
        for ch in a.text:
            code = SCANCODES.get(ch.lower())
            if code is not None:
                inputs.key_press_and_release(code)

    def tick():
        if time.monotonic() - t0 > a.timeout:
            fail('timeout' if not done else 'no display update after typing')
            return False
        if not settled():
            return True
        capture()
        if report['error']:
            return False
        if len(done) < len(captures):
            type_text()
            return True
        report['captured'] = True
        GLib.timeout_add(int(a.hold * 1000), loop.quit)
        return False

    GObject.Object.connect(session, 'channel-new', on_new_channel)
    if not session.connect():
        print(json.dumps({'error': 'spice_session_connect failed'}))
        return 2
    GLib.timeout_add(50, tick)
    loop.run()
    report['capture_ms'] = done
    report['elapsed_ms'] = round((time.monotonic() - t0) * 1000)
    session.disconnect()
    print(json.dumps(report, indent=1))
    return 0 if report['captured'] and report['error'] is None else 1


if __name__ == '__main__':
    sys.exit(main())
