"""Photos sent together (a Telegram album, WhatsApp images within seconds) get one reply that counts them all.

Everything a photo of an album makes the bot say is written as outbox rows born a little in the future
(`next_attempt_at` = now + the window), with the album's key in their payload. A later photo of the same
album finds those rows still unsent, in its own transaction with the conversation row locked, and replaces
them with its own reply, which counts every photo so far. The state is in the database, so it holds when the
photos arrive on different web processes. Any other message to the chat lets a waiting reply out first
(`OutboxWriter.flush`), so the chat's order holds.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.conversation.turn import Turn
from storage.models import OutboxMessage, OutboxStatus

META = "album"


async def hold_reply(turn: Turn, key: str, problems: list[str]) -> list[str]:
    """Holds this turn's replies to the chat back for the album's window; returns the album's problems so far.

    The reply of an earlier photo of the album, still waiting, is superseded: its rows are deleted and what
    was wrong with its photos is carried into this one.
    """
    earlier: list[str] = []
    for row in await _unsent_replies(turn, key):
        earlier.extend(row.payload[META].get("problems", []))
        await turn.session.delete(row)
    carried = [*earlier, *problems]
    due = turn.now + timedelta(seconds=turn.settings.album_window_seconds)
    turn.outbox.hold_back(turn.contact, due, {META: {"key": key, "problems": carried}})
    return carried


async def _unsent_replies(turn: Turn, key: str) -> list[OutboxMessage]:
    """The album's reply rows still waiting to go out (never tried, their time not yet come)."""
    query = (select(OutboxMessage)
             .where(OutboxMessage.channel == turn.contact.channel, OutboxMessage.address == turn.contact.address,
                    OutboxMessage.status == OutboxStatus.pending, OutboxMessage.attempts == 0,
                    col(OutboxMessage.next_attempt_at) > turn.now)
             .order_by(col(OutboxMessage.id))
             .with_for_update())
    return [row for row in (await turn.session.exec(query)).all()
            if (row.payload.get(META) or {}).get("key") == key]
