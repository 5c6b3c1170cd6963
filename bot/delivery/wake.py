"""After a commit that wrote outbox rows, the elected sender wakes at once, in this process or in another.

The elected sender of a channel (bot/delivery/sending.py) waits on an event between its rounds. A commit in the
process that holds the election sets that event, with no I/O. A commit in any other process sends one PostgreSQL
NOTIFY, which the elected process LISTENs for; the commits that come while one is on its way share the next, so
a busy process sends at most one every NOTIFY_SPACING seconds, on a pooled connection in autocommit.

Until migration 0014 a trigger sent a NOTIFY from every writing transaction. PostgreSQL lets only one notifying
transaction commit at a time and wakes every listener for each: two web processes take about 9% more updates/s
without it (docs/performance.md#two-processes). What no one wakes the sender for (a row re-queued from the CLI, a
retry coming due) it finds at its next round, at most its `interval` (1 s) later.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import DATABASE, Database, after_commit

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "umkm_outbox"
NOTIFY_SPACING = 0.05  # seconds between two NOTIFYs of one process (at most 20 a second)
_CHANNELS = "bot.delivery.wake.channels"  # session.info: the channels this transaction wrote outbox rows for

# Per database, this process's elected-sender loops: each wakes its channel's sender if it holds the election
# and says whether it did.
_local: weakref.WeakKeyDictionary[Database, set[Callable[[str], bool]]] = weakref.WeakKeyDictionary()
_notifiers: weakref.WeakKeyDictionary[Database, _Notifier] = weakref.WeakKeyDictionary()


def register(db: Database, wake_if_elected: Callable[[str], bool]) -> None:
    _local.setdefault(db, set()).add(wake_if_elected)


def unregister(db: Database, wake_if_elected: Callable[[str], bool]) -> None:
    _local.get(db, set()).discard(wake_if_elected)


def when_committed(session: AsyncSession, channels: Iterable[str]) -> None:
    """Wakes the senders of `channels` once the session's transaction commits (a session of
    `Database.transaction`; any other's rows wait for the sender's next round)."""
    db = session.info.get(DATABASE)
    written = session.info.setdefault(_CHANNELS, set())
    written.update(channels)
    if db is not None and written:
        after_commit(session, "outbox", lambda: committed(db, written))


def committed(db: Database, channels: Iterable[str]) -> None:
    """Outbox rows of `channels` were committed: wake each channel's sender, here if it is elected here, else
    through PostgreSQL."""
    remote = False
    for channel in sorted(channels):
        woken = [wake(channel) for wake in list(_local.get(db, ()))]
        remote = remote or not any(woken)
    if remote and not db.is_sqlite:
        _notifiers.setdefault(db, _Notifier(db)).request()


class _Notifier:
    """At most one NOTIFY on its way per database; requests made meanwhile are answered by the next one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.wanted = False
        self.task: asyncio.Task[None] | None = None

    def request(self) -> None:
        self.wanted = True
        if self.task is None or self.task.done():
            self.task = self.db.run_aside(self._send())

    async def _send(self) -> None:
        while self.wanted:
            self.wanted = False
            try:
                async with self.db.engine.connect() as conn:
                    autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await autocommit.execute(text("SELECT pg_notify(:channel, current_schema())"),
                                             {"channel": NOTIFY_CHANNEL})
            except Exception as exc:  # the database is down: the sender's own round finds the rows later
                log.warning("delivery: could not wake the sender (%s); it sends at its next round", exc)
                return
            await asyncio.sleep(NOTIFY_SPACING)
