"""HTTP pushes the way real networks deliver them, over raw sockets (stdlib only).

A phone on Wi-Fi sends a Sensor Logger push in TCP segments of about one MSS
(1448 bytes) with gaps between them; some clients send chunked bodies; a broken
one announces a Content-Length it never sends. Home Assistant's test client
delivers every body in one piece, so these go through a real socket to a real
server. Used by `scripts/demo-check --robustness` and tests/e2e.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import socket
import time

MSS = 1448


@dataclass(frozen=True)
class Reply:
    """The server's answer: status code, body, and how long it took."""

    status: int
    body: bytes
    seconds: float


# What ends reading an answer. (A tuple, not "except A, B:": demo-check loads
# this file and runs on any Python 3, and that syntax needs 3.14.)
_END_OF_ANSWER = (TimeoutError, ConnectionResetError)


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    # Every send() becomes its own segment on loopback: no coalescing.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _head(
    method: str, host: str, port: int, path: str, headers: dict[str, str]
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reply(sock: socket.socket, started: float) -> Reply:
    """Read the answer; ``seconds`` is when its first byte came.

    (A server may linger before closing a connection whose body it did not
    read in full: the answer counts, not the close.)
    """
    data = b""
    first: float | None = None
    while True:
        try:
            chunk = sock.recv(65536)
        except _END_OF_ANSWER:
            break
        if not chunk:
            break
        if first is None:
            first = time.monotonic()
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if _complete(head, body):
            break
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 else 0
    seconds = (first if first is not None else time.monotonic()) - started
    return Reply(status=status, body=body, seconds=seconds)


def _complete(head: bytes, body: bytes) -> bool:
    """Whether a response with a Content-Length has all of its body."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def _post(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    write_body: Callable[[socket.socket], None],
    timeout: float,
) -> Reply:
    """POST with ``headers``; ``write_body`` sends the body its own way."""
    started = time.monotonic()
    with _connect(host, port, timeout) as sock:
        sock.sendall(
            _head(
                "POST",
                host,
                port,
                path,
                {"Content-Type": "application/json", **headers},
            )
        )
        write_body(sock)
        return _reply(sock, started)


def post_segmented(
    host: str,
    port: int,
    path: str,
    body: bytes,
    *,
    segment: int = MSS,
    pause: float = 0.005,
    timeout: float = 30.0,
) -> Reply:
    """POST ``body`` in ``segment``-byte pieces, ``pause`` seconds apart."""

    def write(sock: socket.socket) -> None:
        for start in range(0, len(body), segment):
            time.sleep(pause)
            sock.sendall(body[start : start + segment])

    return _post(host, port, path, {"Content-Length": str(len(body))}, write, timeout)


def post_chunked(
    host: str,
    port: int,
    path: str,
    body: bytes,
    *,
    chunk: int = 1000,
    pause: float = 0.005,
    timeout: float = 30.0,
) -> Reply:
    """POST ``body`` with Transfer-Encoding: chunked, one chunk per segment."""

    def write(sock: socket.socket) -> None:
        for start in range(0, len(body), chunk):
            piece = body[start : start + chunk]
            time.sleep(pause)
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        sock.sendall(b"0\r\n\r\n")

    return _post(host, port, path, {"Transfer-Encoding": "chunked"}, write, timeout)


def post_overstated(
    host: str,
    port: int,
    path: str,
    body: bytes,
    *,
    extra: int = 1000,
    close_after: float | None = None,
    timeout: float = 30.0,
) -> Reply:
    """POST ``body`` under a Content-Length ``extra`` bytes too large.

    With ``close_after``, the client gives up (closes its sending side) after
    that many seconds; otherwise it keeps the connection open and waits.
    """

    def write(sock: socket.socket) -> None:
        sock.sendall(body)
        if close_after is not None:
            time.sleep(close_after)
            sock.shutdown(socket.SHUT_WR)

    return _post(
        host, port, path, {"Content-Length": str(len(body) + extra)}, write, timeout
    )
