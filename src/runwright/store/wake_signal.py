"""A local wake-up signal for workers on one SQLite file (PostgreSQL has LISTEN/NOTIFY).

Each idle worker binds a Unix datagram socket in a folder named after the database file; a
process that commits new ready work sends one byte to every socket there. It is a hint only:
a lost or unsent signal costs at most one poll interval, because polling stays the
correctness path. Sockets of processes that are gone are removed by the next sender.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

SUFFIX = ".sock"
#: Unix socket paths are limited to about 107 bytes; the folder lives under the temp dir.
MAX_PATH = 100


def wake_dir(database: Path) -> Path:
    """The folder of the wake-up sockets for one SQLite file (short, private to this user)."""
    key = hashlib.sha256(str(database.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"runwright-wake-{os.getuid()}-{key}"


def signal_workers(folder: Path) -> int:
    """Send a wake-up to every worker listening in ``folder``; how many were reached."""
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    sent = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for name in names:
            if not name.endswith(SUFFIX):
                continue
            path = folder / name
            try:
                sock.sendto(b"!", str(path))
                sent += 1
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):
                    path.unlink()  # its worker is gone
            except (BlockingIOError, OSError):
                pass  # a full queue already holds a wake-up; anything else: polling finds it
    return sent


class WakeListener:
    """A bound socket and a thread that calls ``on_wake`` for every signal received."""

    def __init__(self, folder: Path, on_wake: Callable[[], None]):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = folder / f"{os.getpid()}-{threading.get_ident()}-{os.urandom(3).hex()}{SUFFIX}"
        if len(str(self.path)) > MAX_PATH:
            raise OSError(f"wake-up socket path too long: {self.path}")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(1.0)
        self._on_wake = on_wake
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="runwright-wake", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._closed.is_set():
            try:
                self._sock.recv(16)
            except TimeoutError:
                continue
            except OSError:
                return
            self._on_wake()

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._sock.close()
