"""A fault-injecting HTTP/1.1 proxy on 127.0.0.1, for tests of flaky object storage.

It sits between obstore and the moto server: each request is read whole, forwarded on a fresh
upstream connection, and the upstream response is written back, unless a :data:`Rule` decides a
:class:`Fault` for it. Faults are those real networks and stores produce:

- ``status`` 500 / 503: an error response (stores retry these);
- ``reset``: the connection is closed with an RST before any response byte;
- ``slow``: the first byte of the response waits ``seconds``;
- ``short``: the headers announce the whole body, half of it is sent, the connection closes;
- ``long_length``: Content-Length larger than the body, then the connection closes;
- ``short_length``: Content-Length *and* body cut to half: a well-formed response with too few
  bytes, the one fault no HTTP client can notice (a reader must compare with what it asked);
- ``ignore_if_match``: the conditional headers are dropped before forwarding, as some
  S3-compatible servers and caches do: the current object is served whatever was asked for.

Every wait is bounded and :meth:`FaultProxy.stop` joins every thread it started.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse


@dataclass(frozen=True)
class Fault:
    kind: str  # "status" | "reset" | "slow" | "short" | "long_length" | "short_length" | "ignore_if_match"
    status: int = 503
    seconds: float = 0.0

    def __str__(self) -> str:
        return {"status": f"HTTP {self.status}", "slow": f"slow {self.seconds}s"}.get(self.kind, self.kind)


#: (method, path, n-th request matching so far, starting at 0) -> the fault to inject, or None.
Rule = Callable[[str, str, int], Fault | None]


def first(n: int, fault: Fault, method: str = "GET") -> Rule:
    """``fault`` on the first ``n`` ``method`` requests, then healthy: a transient failure."""
    return lambda m, path, k: fault if m == method and k < n else None


def always(fault: Fault, method: str = "GET") -> Rule:
    """``fault`` on every ``method`` request: a persistent failure."""
    return lambda m, path, k: fault if m == method else None


@dataclass
class Logged:
    method: str
    path: str
    fault: Fault | None
    at: float


@dataclass
class FaultProxy:
    """The proxy; ``rule`` can be changed between requests; ``log`` records what it did."""

    upstream: str
    rule: Rule = lambda m, p, k: None
    upstream_timeout: float = 10.0
    log: list[Logged] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: socketserver.ThreadingTCPServer | None = None
    _thread: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            block_on_close = False

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="fault-proxy")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def faults(self, kind: str | None = None) -> int:
        return sum(1 for e in self.log if e.fault is not None and (kind is None or e.fault.kind == kind))

    def requests(self, method: str = "GET") -> int:
        return sum(1 for e in self.log if e.method == method)

    # ------------------------------------------------------------------ one connection

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(self.upstream_timeout)
        reader = sock.makefile("rb")
        try:
            for _ in range(10_000):  # requests per connection: bounded
                request = _read_request(reader)
                if request is None or self._stopping.is_set():
                    return
                method, target, headers, body = request
                with self._lock:
                    n = self._counts.get(method, 0)
                    self._counts[method] = n + 1
                    fault = self.rule(method, target, n)
                    self.log.append(Logged(method, target, fault, time.monotonic()))
                if not self._answer(sock, method, target, headers, body, fault):
                    return
        except (OSError, ValueError):
            return
        finally:
            reader.close()
            try:
                sock.close()
            except OSError:
                pass

    def _answer(self, sock: socket.socket, method: str, target: str, headers: list[tuple[str, str]],
                body: bytes, fault: Fault | None) -> bool:
        """Answer one request; False when the connection must close."""
        if fault is not None and fault.kind == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if fault is not None and fault.kind == "status":
            payload = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
            sock.sendall(_head(fault.status, "Injected", [("Content-Type", "application/xml")], len(payload))
                         + payload)
            return True
        if fault is not None and fault.kind == "ignore_if_match":
            headers = [(k, v) for k, v in headers if k.lower() not in ("if-match", "if-none-match")]
        status, reason, out_headers, out_body = self._forward(method, target, headers, body)
        if fault is not None and fault.kind == "slow":
            self._stopping.wait(fault.seconds)
        if fault is not None and fault.kind in ("short", "long_length") and out_body:
            declared = len(out_body) + (1000 if fault.kind == "long_length" else 0)
            sock.sendall(_head(status, reason, out_headers, declared) + out_body[: len(out_body) // 2
                                                                                 if fault.kind == "short" else None])
            return False
        if fault is not None and fault.kind == "short_length" and out_body:
            out_body = out_body[: len(out_body) // 2]
        length = len(out_body)
        if method == "HEAD":  # no body, but the object's size in Content-Length
            length = int(next((v for k, v in out_headers if k.lower() == "x-proxy-length"), "0"))
            out_headers = [(k, v) for k, v in out_headers if k.lower() != "x-proxy-length"]
        sock.sendall(_head(status, reason, out_headers, length) + out_body)
        return True

    def _forward(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes):
        up = urlparse(self.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=self.upstream_timeout)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            conn.endheaders(body or None)
            response = conn.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders()
                    if k.lower() not in ("content-length", "transfer-encoding", "connection")]
            if method == "HEAD":
                kept.append(("X-Proxy-Length", response.getheader("Content-Length", "0")))
            return response.status, response.reason, kept, data
        finally:
            conn.close()


def _read_request(reader) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    line = reader.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: list[tuple[str, str]] = []
    for _ in range(200):
        raw = reader.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        k, _, v = raw.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
    body = reader.read(length) if length else b""
    return method, target, headers, body


def _head(status: int, reason: str, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers] + [f"Content-Length: {length}", "", ""]
    return "\r\n".join(lines).encode("latin-1")
