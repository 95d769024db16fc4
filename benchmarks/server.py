"""A small S3-compatible HTTP server on 127.0.0.1 that serves a folder, with latency and counters.

Path-style only: ``GET/HEAD /bucket/key`` (``Range: bytes=a-b`` -> 206 + Content-Range), ``HEAD
/bucket`` and a minimal ``GET /bucket?list-type=2&prefix=`` (ListObjectsV2). Every request waits
``latency`` seconds before its first byte, in its own thread, so concurrent requests wait together.
It counts GETs, body bytes sent and the peak number of requests in flight. No authentication: any
signature is accepted.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.gets = 0
            self.heads = 0
            self.lists = 0
            self.bytes = 0
            self.in_flight = 0
            self.peak_in_flight = 0

    def snapshot(self) -> dict:
        with self.lock:
            return {"gets": self.gets, "heads": self.heads, "lists": self.lists, "bytes": self.bytes,
                    "peak_in_flight": self.peak_in_flight}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may idle before the thread gives up
    server: S3Server

    def log_message(self, format: str, *args) -> None:  # quiet
        pass

    def _enter(self) -> None:
        c = self.server.counters
        with c.lock:
            c.in_flight += 1
            c.peak_in_flight = max(c.peak_in_flight, c.in_flight)
        if self.server.latency > 0:
            time.sleep(self.server.latency)

    def _leave(self) -> None:
        c = self.server.counters
        with c.lock:
            c.in_flight -= 1

    def _resolve(self) -> tuple[str, str, dict]:
        parts = urlsplit(self.path)
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        return bucket, key, parse_qs(parts.query)

    def _file(self, bucket: str, key: str) -> Path | None:
        if bucket != self.server.bucket or not key or ".." in key.split("/"):
            return None
        path = self.server.root / key
        return path if path.is_file() else None

    def _headers(self, status: int, length: int, path: Path | None, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        if path is not None:
            st = path.stat()
            etag = hashlib.md5(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()
            self.send_header("ETag", f'"{etag}"')
            self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "image/tiff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _error(self, status: int, code: str) -> None:
        body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code></Error>".encode()
        self._headers(status, len(body) if self.command != "HEAD" else 0, None, {"Content-Type": "application/xml"})
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        """``POST /_counters/reset``: a case starts its clock, so the counters cover only what it times
        (not, say, the publishing of a cube it then reads). Not counted, no latency."""
        if urlsplit(self.path).path != "/_counters/reset":
            return self._error(404, "NoSuchKey")
        self.server.counters.reset()
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:  # noqa: N802
        self._enter()
        try:
            with self.server.counters.lock:
                self.server.counters.heads += 1
            bucket, key, _ = self._resolve()
            if not key:
                return self._headers(200, 0, None) if bucket == self.server.bucket else self._error(404, "NoSuchBucket")
            path = self._file(bucket, key)
            if path is None:
                return self._error(404, "NoSuchKey")
            self._headers(200, path.stat().st_size, path)
        finally:
            self._leave()

    def do_GET(self) -> None:  # noqa: N802
        if urlsplit(self.path).path == "/_counters":  # what a case has cost so far (not counted, no latency)
            body = json.dumps(self.server.counters.snapshot()).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self._enter()
        try:
            bucket, key, query = self._resolve()
            if not key:
                return self._list(bucket, query)
            with self.server.counters.lock:
                self.server.counters.gets += 1
            path = self._file(bucket, key)
            if path is None:
                return self._error(404, "NoSuchKey")
            size = path.stat().st_size
            start, end, status = 0, size, 200
            header = self.headers.get("Range")
            if header:
                m = _RANGE.match(header.strip())
                if not m or (m.group(1) == "" and m.group(2) == ""):
                    return self._error(416, "InvalidRange")
                if m.group(1) == "":  # suffix
                    start, end = max(size - int(m.group(2)), 0), size
                else:
                    start = int(m.group(1))
                    end = min(int(m.group(2)) + 1, size) if m.group(2) else size
                if start >= size or end <= start:
                    return self._error(416, "InvalidRange")
                status = 206
            extra = {"Content-Range": f"bytes {start}-{end - 1}/{size}"} if status == 206 else {}
            self._headers(status, end - start, path, extra)
            with path.open("rb") as f:
                f.seek(start)
                remaining = end - start
                while remaining > 0:
                    block = f.read(min(remaining, 1 << 20))
                    if not block:
                        break
                    self.wfile.write(block)
                    remaining -= len(block)
            with self.server.counters.lock:
                self.server.counters.bytes += end - start
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self._leave()

    def _list(self, bucket: str, query: dict) -> None:
        with self.server.counters.lock:
            self.server.counters.lists += 1
        if bucket != self.server.bucket:
            return self._error(404, "NoSuchBucket")
        prefix = query.get("prefix", [""])[0]
        names = sorted(p.relative_to(self.server.root).as_posix() for p in self.server.root.rglob("*") if p.is_file())
        names = [n for n in names if n.startswith(prefix)][:1000]
        items = "".join(
            f"<Contents><Key>{escape(n)}</Key><Size>{(self.server.root / n).stat().st_size}</Size></Contents>"
            for n in names
        )
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><ListBucketResult>"
            f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(names)}</KeyCount>"
            f"<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{items}</ListBucketResult>"
        ).encode()
        self._headers(200, len(body), None, {"Content-Type": "application/xml"})
        self.wfile.write(body)


class S3Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, root: Path, bucket: str = "bench", latency: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = Path(root)
        self.bucket = bucket
        self.latency = latency
        self.counters = Counters()
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> S3Server:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # python -m benchmarks.server FOLDER [LATENCY_S]: serve until Ctrl-C (max 1 h)
    import sys

    with S3Server(Path(sys.argv[1]), latency=float(sys.argv[2]) if len(sys.argv) > 2 else 0.0) as srv:
        print(f"serving {sys.argv[1]} as s3://{srv.bucket} at {srv.endpoint}", flush=True)
        try:
            time.sleep(3600)
        except KeyboardInterrupt:
            pass
