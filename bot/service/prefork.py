"""`umkm-bot run --workers N`: N processes on one listening socket; one of them sends for each account."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import socket
import time
from typing import Any

from bot.service.web import check_settings, run_event_loop, serve
from bot.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)


def serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """The parent migrates once, forks the workers, forwards SIGINT/SIGTERM, and restarts a worker that died."""
    check_settings(settings)
    run_event_loop(_migrate(settings))
    sock = listen(host, port)
    workers_ = Workers(settings, host, port, sock)
    gc.freeze()  # what the parent loaded stays shared with the workers: their collector never writes to it
    for index in range(workers):
        workers_.spawn(index)
    signal.signal(signal.SIGINT, workers_.forward)
    signal.signal(signal.SIGTERM, workers_.forward)
    log.info("serving on %s:%s with %s worker processes", host, port, workers)
    failed = workers_.watch()
    sock.close()
    if failed:
        raise SystemExit(1)


async def _migrate(settings: Settings) -> None:
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    try:
        await db.upgrade()
    finally:
        await db.dispose()


def listen(host: str, port: int) -> socket.socket:
    """The listening socket the workers share (inherited across fork)."""
    # IPPROTO_TCP: asyncio's loop (where uvloop is missing) turns Nagle off only on sockets that say TCP
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Workers:
    """The forked worker processes, by pid, and whether the parent is stopping them."""

    def __init__(self, settings: Settings, host: str, port: int, sock: socket.socket) -> None:
        self.settings, self.host, self.port, self.sock = settings, host, port, sock
        self.children: dict[int, int] = {}
        self.stopping = False

    def spawn(self, index: int) -> None:
        """Forks worker `index`; the child serves until stopped and exits (1 when it failed)."""
        pid = os.fork()
        if pid == 0:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            code = 0
            try:
                run_event_loop(serve(self.settings, self.host, self.port, self.sock, index))
            except BaseException:
                log.exception("worker %s failed", index)
                code = 1
            os._exit(code)
        self.children[pid] = index

    def forward(self, sig: int, _frame: Any) -> None:
        """A signal to the parent goes to every worker; none is restarted after it."""
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def watch(self) -> bool:
        """Waits for the workers, restarting one that died unasked; True when one failed while stopping."""
        failed = False
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = self.children.pop(pid, -1)
            code = os.waitstatus_to_exitcode(status)
            if self.stopping or index < 0:
                failed = failed or code not in (0, -signal.SIGTERM, -signal.SIGINT)
                continue
            log.error("worker %s exited (%s); starting it again", index, code)
            time.sleep(1)
            self.spawn(index)
        return failed
