"""The listening socket of `wikipeer serve`, bound before the server says it serves.

Binding first means "serving on URL" is only ever printed for a port that is
ours, and a port another program holds is one line a person can act on
(exit 2), not uvicorn's log line and exit 3 after the announcement.
"""

from __future__ import annotations

import errno
import socket

from wikipeer.errors import UserError

BACKLOG = 2048  # uvicorn's default


def url(host: str, port: int) -> str:
    """The address a browser opens, IPv6 literals in brackets."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` and listening; UserError saying why it cannot be.

    ``reuse_port``: SO_REUSEPORT, so that more sockets of this user may listen on the same port (bind_shared).
    """
    if not 0 <= port <= 65535:
        raise UserError(f"port {port} does not exist: choose one from 1 to 65535 with --port")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise UserError(f"cannot listen on {host!r}: {exc.strerror}; give an address of this machine "
                        "with --host (127.0.0.1, or 0.0.0.0 for every interface)") from None
    sock = socket.socket(family, kind, proto)
    try:
        # As uvicorn does: a restarted server may bind while the last one's closed connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise UserError(_why(exc, host, port)) from None
    sock.set_inheritable(True)
    return sock


def bind_shared(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one port, one per serving worker (`serve --workers`).

    With SO_REUSEPORT the kernel spreads new connections evenly over the
    sockets by their addresses. One socket shared by all workers does not:
    the first worker to wake takes every connection waiting (a browser's six,
    a benchmark's sixteen), and the others idle. The port is first bound
    plainly, so a port that any other program holds, with or without
    SO_REUSEPORT, is refused as bind refuses it, not silently shared.
    """
    probe = bind(host, port)
    port = probe.getsockname()[1]
    probe.close()
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            socks.append(bind(host, port, reuse_port=True))
    except UserError:
        for sock in socks:
            sock.close()
        raise
    return socks


def keep_one(socks: list[socket.socket], slot: int) -> socket.socket:
    """In a worker: its own socket of ``bind_shared``'s, the others' closed (they are the other workers')."""
    for number, sock in enumerate(socks):
        if number != slot:
            sock.close()
    return socks[slot]


def _why(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use: choose another with --port"
    if exc.errno == errno.EACCES:
        return f"port {port} on {host} needs privileges this user lacks: choose one above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: choose another with --host"
    return f"cannot listen on port {port} of {host}: {exc.strerror}"
