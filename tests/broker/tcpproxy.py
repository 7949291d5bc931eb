"""A TCP proxy in front of the broker, so a test can lose the broker without stopping it.

The shared RabbitMQ keeps running for every other test; only the connections that go
through the proxy are cut (and, with :meth:`Proxy.restore`, come back).
"""

from __future__ import annotations

import socket
import threading


class Proxy:
    """A TCP proxy in front of the broker; :meth:`cut` is a lost network or broker."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.is_cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def restore(self) -> None:
        """The network (or the broker) is back: accept connections again, on the same port."""
        with self.lock:
            self.listener = socket.create_server(("127.0.0.1", self.port))
            self.sockets = []
            self.is_cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        listener = self.listener
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                if self.is_cut:
                    client.close()
                    upstream.close()
                    return
                self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        with self.lock:
            self.is_cut = True
            self.listener.close()
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
