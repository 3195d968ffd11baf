"""A TCP proxy a test controls, to put between a server and its database and then break the line.

``cut()`` closes every connection through it and refuses new ones (the database went away);
``blackhole()`` accepts new connections but never answers (a host that no longer replies);
``restore()`` forwards again. Threads, standard library only; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import socket
import threading

CHUNK = 65536
JOIN_TIMEOUT = 5.0


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; start with ``with TcpProxy(...) as proxy``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._mode = "up"
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    # -- control --------------------------------------------------------------------------------

    def start(self) -> TcpProxy:
        self._listen()
        return self

    def cut(self) -> None:
        """Close every connection and stop listening: new connections are refused."""
        with self._lock:
            self._mode = "cut"
        self._stop_listening()
        self._close_all()

    def blackhole(self) -> None:
        """Close every connection; accept new ones but send nothing either way (they hang)."""
        with self._lock:
            self._mode = "blackhole"
        self._close_all()
        if self._listener is None:
            self._listen()

    def restore(self) -> None:
        """Forward again (connections held by ``blackhole`` are closed)."""
        self._close_all()
        with self._lock:
            self._mode = "up"
        if self._listener is None:
            self._listen()

    def stop(self) -> None:
        with self._lock:
            self._mode = "stopped"
        self._stop_listening()
        self._close_all()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._sockets)

    # -- work ---------------------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), name="tcp-proxy-accept", daemon=True)
        self._acceptor.start()

    def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        if self._acceptor is not None:
            self._acceptor.join(JOIN_TIMEOUT)

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            with self._lock:
                mode = self._mode
                if mode in ("up", "blackhole"):
                    self._sockets.add(client)
            if mode == "up":
                threading.Thread(target=self._connect, args=(client,), name="tcp-proxy-connect", daemon=True).start()
            elif mode != "blackhole":
                _close(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=JOIN_TIMEOUT)
            upstream.settimeout(None)
        except OSError:
            self._forget(client)
            return
        with self._lock:
            if client not in self._sockets:  # cut meanwhile
                _close(upstream)
                return
            self._sockets.add(upstream)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), name="tcp-proxy-pump", daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        self._forget(source)
        self._forget(sink)

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
