"""Listen on COUNT TCP ports the kernel picks on 127.0.0.1, then become COMMAND with them.

Usage: listen-exec.py COUNT COMMAND [ARG...]

The listening sockets are handed to COMMAND as file descriptors 3, 4, ... (HAProxy's `bind fd@3`),
and their ports are printed first, on one line, so the test learns the ports of the sockets the
program really listens on: no port is picked, released and hoped to be still free.
"""
import fcntl
import os
import socket
import sys

count = int(sys.argv[1])
command = sys.argv[2:]
sockets = []
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    sockets.append(s)
# Copy them above the target numbers first, so placing one cannot close another.
spare = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 3 + count) for s in sockets]
ports = [s.getsockname()[1] for s in sockets]
for s in sockets:
    s.close()
for i, fd in enumerate(spare):
    os.dup2(fd, 3 + i, inheritable=True)
for fd in spare:
    os.close(fd)
print(" ".join(str(p) for p in ports), flush=True)
os.execvp(command[0], command)
