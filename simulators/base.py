"""What every simulator needs: a loopback HTTP server, parsed requests, fault injection, counters.

A service's simulator subclasses `LoopbackServer` and implements `handle(request) -> Reply`; the
base serves it on 127.0.0.1 in a daemon thread, records requests, applies forced faults queued with
`fail_next` / `hang_next` (until `clear_faults`), adds latency, and counts requests and statuses. Standard library only.
"""

from __future__ import annotations

import copy
import json
import selectors
import signal
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DROP = 0  # a forced "status" that closes the connection without an answer


@dataclass
class Reply:
    """One answer: a JSON `body` (or `raw` bytes), extra headers; `drop` closes without answering."""

    status: int
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    hang_seconds: float = 0.0  # sleep this long before answering (a client's read timeout fires first)


@dataclass(frozen=True)
class Request:
    """A parsed request: method, path without query, first value per parameter, all pairs, headers, body."""

    method: str
    path: str
    params: dict[str, str]
    pairs: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    raw_path: str

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else None
        except (UnicodeDecodeError, ValueError):
            return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: LoopbackServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sys_version = ""
    timeout = 30  # idle keep-alive connections let their thread go after this

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK stall every small response by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _dispatch(self) -> None:
        self.server.owner._serve(self)  # type: ignore[attr-defined]

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    @property
    def server_version(self) -> str:  # type: ignore[override]
        return self.server.owner.server_name  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and demos read the counters instead of an access log."""


class LoopbackServer:
    """A simulated service on a loopback port; subclasses implement `handle`."""

    server_name = "Simulator/1.0"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency_seconds: float = 0.0) -> None:
        self.host = host
        self.port = port
        self.latency_seconds = latency_seconds
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._lock = threading.Lock()
        self._forced: deque[Reply] = deque()
        self._last_requests: deque[tuple[str, str, dict[str, str]]] = deque(maxlen=200)
        self._base_counters: dict[str, Any] = {"requests": 0, "dropped": 0, "status": {}, "by_endpoint": {}}

    # ---- lifecycle

    def start(self) -> str:
        """Start serving in a daemon thread and return the base URL."""
        if self._server is not None:
            return self.url
        server = _Server((self.host, self.port), _Handler)
        server.owner = self
        self._server = server
        self.port = server.server_address[1]
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve_until_woken, args=(server, self._wake[0]),
                                        name=f"{type(self).__name__}-{self.port}", daemon=True)
        self._thread.start()
        return self.url

    @staticmethod
    def _serve_until_woken(server: _Server, wake: socket.socket) -> None:
        # Like serve_forever, but `stop` wakes the loop at once instead of waiting for its next
        # poll: with a simulator per test, a 0.1 s poll cost seconds over the suite.
        with selectors.DefaultSelector() as selector:
            selector.register(server, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _events in selector.select()}
                if wake in ready:
                    return
                server.handle_request()  # the listening socket is readable: accept without blocking

    def stop(self) -> None:
        """Stop serving and free the port."""
        server, self._server = self._server, None
        wake, self._wake = self._wake, None
        if server is None or wake is None:
            return
        wake[1].send(b"stop")
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        server.server_close()
        for end in wake:
            end.close()

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_until_stopped(self, banner: str) -> int:
        """Serve in the foreground for a person (`python -m simulators.X`): print `banner`, stop on Ctrl-C or SIGTERM."""
        stop = threading.Event()
        # SIGTERM ends the run as quietly as Ctrl-C does; SIGINT is re-armed because a shell
        # starts background jobs with it ignored, and Ctrl-C must still stop the simulator.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:  # from the first line out: a Ctrl-C right after it must still stop quietly
            print(banner, flush=True)
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
        print("Simulator stopped.", flush=True)
        return 0

    # ---- test helpers

    def fail_next(self, count: int, status: int = 503, headers: list[tuple[str, str]] | None = None,
                  body: Any = None) -> None:
        """Answer the next `count` requests with `status` (0: drop the connection), before any other check."""
        with self._lock:
            for _ in range(count):
                self._forced.append(Reply(status, body if body is not None else self.error_body(status),
                                          list(headers or []), drop=status == DROP))

    def hang_next(self, count: int, seconds: float, status: int = 200) -> None:
        """Answer the next `count` requests only after `seconds` (for client read timeouts)."""
        with self._lock:
            for _ in range(count):
                self._forced.append(Reply(status, self.error_body(status), hang_seconds=seconds))

    def clear_faults(self) -> None:
        """Forget the forced replies `fail_next` / `hang_next` queued that no request has used yet."""
        with self._lock:
            self._forced.clear()

    def counters(self) -> dict:
        """A snapshot of the counters: requests, dropped, per status and per endpoint."""
        with self._lock:
            return copy.deepcopy(self._base_counters)

    def reset_counters(self) -> None:
        """Zero the counters and forget the recorded requests."""
        with self._lock:
            self._base_counters = {"requests": 0, "dropped": 0, "status": {}, "by_endpoint": {}}
            self._last_requests.clear()

    @property
    def last_requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path with query, headers) of the last ~200 requests, oldest first."""
        with self._lock:
            return list(self._last_requests)

    # ---- for subclasses

    def handle(self, request: Request) -> Reply:
        """Answer one request; `endpoint_of` names it for the counters."""
        raise NotImplementedError

    def endpoint_of(self, request: Request) -> str:
        """The counter key for a request (default: its path)."""
        return request.path

    def error_body(self, status: int) -> Any:
        """The body a forced `status` carries."""
        return {"error": f"HTTP {status}"}

    def extra_headers(self, request: Request, reply: Reply) -> list[tuple[str, str]]:
        """Headers every answer carries (rate-limit headers, say)."""
        return []

    # ---- serving

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        split = urlsplit(handler.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        params: dict[str, str] = {}
        for key, value in pairs:
            params.setdefault(key, value)
        request = Request(handler.command, split.path.rstrip("/") or "/", params, pairs,
                          dict(handler.headers.items()), body, handler.path)
        with self._lock:
            self._last_requests.append((request.method, handler.path, request.headers))
            forced = self._forced.popleft() if self._forced else None
        if self.latency_seconds > 0:
            time.sleep(self.latency_seconds)
        reply = forced if forced is not None else self.handle(request)
        if reply.hang_seconds:
            time.sleep(reply.hang_seconds)
        self._count(self.endpoint_of(request), reply)
        self.send(handler, reply, self.extra_headers(request, reply))

    def _count(self, endpoint: str, reply: Reply) -> None:
        with self._lock:
            counters = self._base_counters
            counters["requests"] += 1
            counters["by_endpoint"][endpoint] = counters["by_endpoint"].get(endpoint, 0) + 1
            if reply.drop:
                counters["dropped"] += 1
            else:
                counters["status"][reply.status] = counters["status"].get(reply.status, 0) + 1

    @staticmethod
    def send(handler: BaseHTTPRequestHandler, reply: Reply, extra_headers: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
        """Write `reply` to the client (or close the connection for a drop)."""
        if reply.drop:
            # Close the connection without a byte of answer, like a reset behind a load balancer.
            handler.close_connection = True
            return
        body = reply.raw if reply.raw is not None else json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            for name, value in [*extra_headers, *reply.headers]:
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
