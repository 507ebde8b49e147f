#!/usr/bin/python3
"""The reference LZ4 library (liblz4, which spice-gtk and spice-server link) for the LZ4 tests.

  lz4-ref.py decompress SIZE  < block    raw LZ4 block on stdin -> SIZE decoded bytes on stdout
                                          (LZ4_decompress_safe, exit 1 if it refuses the block)
  lz4-ref.py compress CHUNK   < data     data on stdin -> SPICE LZ4 blocks on stdout: per CHUNK
                                          bytes a big-endian u32 length and a block, compressed
                                          with LZ4_compress_fast_continue as spice-server does, so
                                          later blocks refer back into earlier ones

Needs liblz4.so.1 (Debian liblz4-1); exits 2 without it.
"""
import ctypes
import struct
import sys


def load():
    try:
        return ctypes.CDLL('liblz4.so.1')
    except OSError as e:
        sys.stderr.write('liblz4.so.1: %s\n' % e)
        sys.exit(2)


def decompress(lib, size):
    src = sys.stdin.buffer.read()
    dst = ctypes.create_string_buffer(size)
    n = lib.LZ4_decompress_safe(src, dst, len(src), size)
    if n < 0:
        sys.stderr.write('LZ4_decompress_safe refused the block (%d)\n' % n)
        sys.exit(1)
    sys.stdout.buffer.write(dst.raw[:n])


def compress(lib, chunk):
    data = sys.stdin.buffer.read()
    # One buffer for all the input: blocks refer back into it, as the streaming API requires.
    src = ctypes.create_string_buffer(data, len(data))
    lib.LZ4_createStream.restype = ctypes.c_void_p
    stream = ctypes.c_void_p(lib.LZ4_createStream())
    bound = lib.LZ4_compressBound(chunk)
    dst = ctypes.create_string_buffer(bound)
    out = bytearray()
    for at in range(0, len(data), chunk):
        n = min(chunk, len(data) - at)
        k = lib.LZ4_compress_fast_continue(stream, ctypes.byref(src, at), dst, n, bound, 1)
        if k <= 0:
            sys.exit(1)
        out += struct.pack('>I', k) + dst.raw[:k]
    lib.LZ4_freeStream(stream)
    sys.stdout.buffer.write(bytes(out))


def main():
    lib = load()
    mode, n = sys.argv[1], int(sys.argv[2])
    if mode == 'decompress':
        decompress(lib, n)
    elif mode == 'compress':
        compress(lib, n)
    else:
        sys.exit('unknown mode %s' % mode)


main()
