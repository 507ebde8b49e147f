#!/usr/bin/python3
"""spice-gtk's agent side, driven line by line for the agent interop tests: SpiceClientGLib's
SpiceMainChannel (what remote-viewer uses for copy and paste, resize and dropped files) with no
display server.

Reads commands on stdin, one per line, and prints events on stdout as JSON lines:
  grab SEL PATH [TYPE]   the viewer copies PATH's bytes (SEL: 0 CLIPBOARD, 1 PRIMARY; TYPE: 1 UTF-8
                         text, the default, 2 PNG...) and answers the agent's requests with them
  request SEL PATH [TYPE]  the viewer pastes SEL as TYPE: the data is written to PATH
                         -> {"event": "clipboard"}
  resize W H             update_display + send_monitor_config -> {"event": "primary"} on a new surface
  shot PATH              the display's primary surface as PNG -> {"event": "shot"}
  sendfile PATH          file_copy_async -> {"event": "file", "ok": ..., "error": ...}
  quit
Events also: {"event": "ready"} once the agent's capabilities are in, {"event": "grab"} when the
desktop offers a selection, {"event": "primary"} for every primary surface.

  /usr/bin/python3 spice-gtk-agent.py --uri spice://127.0.0.1:5900
Needs Debian's python3-gi and gir1.2-spiceclientglib-2.0 (run with /usr/bin/python3).
"""
import argparse
import ctypes
import json
import struct
import sys
import zlib

import gi
gi.require_version('SpiceClientGLib', '2.0')
from gi.repository import Gio, GLib, GObject, SpiceClientGLib as S  # noqa: E402

UTF8_TEXT = 1
CAP_CLIPBOARD_BY_DEMAND = 5


def emit(**event):
    sys.stdout.write(json.dumps(event) + '\n')
    sys.stdout.flush()


def grab_types(types, ntypes):
    """The u32 types of a grab: introspection hands the C array over as a list or as an address."""
    if isinstance(types, (list, tuple)):
        return [int(t) for t in types[:ntypes]]
    if isinstance(types, int) and types and ntypes:
        return list((ctypes.c_uint32 * ntypes).from_address(types))
    return ['unreadable %s' % type(types).__name__]


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
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(bytes(rows), 1)) + chunk(b'IEND', b''))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--uri', required=True)
    ap.add_argument('--timeout', type=float, default=60)
    a = ap.parse_args()

    loop = GLib.MainLoop()
    session = S.Session()
    session.set_property('uri', a.uri)
    state = {'main': None, 'display': None, 'primary': None, 'ready': False, 'serve': {}, 'want': {}}

    def on_channel_event(channel, event):
        if isinstance(channel, S.MainChannel) and event not in (S.ChannelEvent.OPENED, S.ChannelEvent.SWITCHING):
            emit(event='main-closed', detail=S.ChannelEvent(event).value_nick)
            loop.quit()

    def on_primary(channel, fmt, width, height, stride, shmid, address):
        state['primary'] = (width, height, stride, address)
        emit(event='primary', width=width, height=height)

    def on_selection_grab(main, selection, types, ntypes):
        emit(event='grab', selection=selection, types=grab_types(types, ntypes))
        return True

    def on_selection_request(main, selection, kind):
        served = state['serve'].get(selection)
        if served is None or served[0] != kind:
            return False
        main.clipboard_selection_notify(selection, kind, served[1])
        return True

    def on_selection(main, selection, kind, data, size):
        path = state['want'].pop(selection, None)
        if path is None:
            return
        with open(path, 'wb') as f:
            f.write(ctypes.string_at(data, size) if size else b'')
        emit(event='clipboard', selection=selection, type=kind, size=size)

    def on_selection_release(main, selection):
        emit(event='release', selection=selection)

    def check_ready():
        main = state['main']
        if state['ready'] or main is None or not main.get_property('agent-connected'):
            return True
        if not main.agent_test_capability(CAP_CLIPBOARD_BY_DEMAND) or state['primary'] is None:
            return True
        state['ready'] = True
        emit(event='ready')
        return True

    def on_new_channel(_session, channel):
        GObject.Object.connect(channel, 'channel-event', on_channel_event)
        if isinstance(channel, S.MainChannel):
            state['main'] = channel
            GObject.Object.connect(channel, 'main-clipboard-selection-grab', on_selection_grab)
            GObject.Object.connect(channel, 'main-clipboard-selection-request', on_selection_request)
            GObject.Object.connect(channel, 'main-clipboard-selection', on_selection)
            GObject.Object.connect(channel, 'main-clipboard-selection-release', on_selection_release)
            return
        if isinstance(channel, S.DisplayChannel) and channel.get_property('channel-id') == 0:
            state['display'] = channel
            GObject.Object.connect(channel, 'display-primary-create', on_primary)
        S.Channel.connect(channel)

    def on_file_done(main, result, _data=None):
        try:
            main.file_copy_finish(result)
            emit(event='file', ok=True, error=None)
        except GLib.Error as err:
            emit(event='file', ok=False, error=err.message)

    def command(line):
        words = line.split()
        main = state['main']
        if not words:
            return
        if words[0] == 'grab':
            sel = int(words[1])
            kind = int(words[3]) if len(words) > 3 else UTF8_TEXT
            with open(words[2], 'rb') as f:
                state['serve'][sel] = (kind, f.read())
            main.clipboard_selection_grab(sel, [kind])
        elif words[0] == 'request':
            sel = int(words[1])
            state['want'][sel] = words[2]
            main.clipboard_selection_request(sel, int(words[3]) if len(words) > 3 else UTF8_TEXT)
        elif words[0] == 'resize':
            main.update_display_enabled(0, True, False)
            main.update_display(0, 0, 0, int(words[1]), int(words[2]), False)
            main.send_monitor_config()
        elif words[0] == 'shot':
            width, height, stride, address = state['primary']
            write_png(words[1], width, height, stride, address)
            emit(event='shot', width=width, height=height)
        elif words[0] == 'sendfile':
            path = line[len('sendfile '):].rstrip('\n')  # the rest of the line: names may hold blanks
            main.file_copy_async([Gio.File.new_for_path(path)], Gio.FileCopyFlags.NONE, None, None, None, on_file_done, None)
        elif words[0] == 'quit':
            loop.quit()

    def on_stdin(source, condition):
        line = sys.stdin.readline()
        if line == '':
            loop.quit()
            return False
        try:
            command(line)
        except Exception as err:  # report, keep serving: the test decides what an error means
            emit(event='error', command=line.strip(), error=str(err))
        return True

    GObject.Object.connect(session, 'channel-new', on_new_channel)
    if not session.connect():
        emit(event='error', error='spice_session_connect failed')
        return 2
    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN | GLib.IOCondition.HUP, on_stdin)
    GLib.timeout_add(50, check_ready)
    GLib.timeout_add(int(a.timeout * 1000), loop.quit)
    loop.run()
    session.disconnect()
    return 0


if __name__ == '__main__':
    sys.exit(main())
