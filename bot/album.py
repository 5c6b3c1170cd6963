"""Photos sent together (a Telegram album, WhatsApp images within seconds) get one reply that counts them all.

The reply is an outbox row born a little in the future (`next_attempt_at` = now + the window), with a key in
its payload. A later photo of the same group finds that row still unsent, in its own transaction with the
conversation row locked, rewrites its text and moves its time on. The state is in the database, so it holds
when the photos arrive on different web processes.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.flows.product import MAX_PHOTOS
from bot.messages import Inbound
from bot.turn import Turn
from storage.models import OutboxMessage, OutboxStatus

META = "album"


async def say_photos_received(turn: Turn, inbound: Inbound, problems: list[str], count: int) -> None:
    """"Photos saved: N", with what was wrong with any of them; one reply for a whole album."""
    row = await _unsent_reply(turn, inbound.album) if inbound.album else None
    if row is not None:
        problems = [*row.payload[META]["problems"], *problems]
    choices = [turn.button("photos:done", "photos_done")] if count else []
    if count:
        choices.append(turn.button("photos:clear", "photos_clear"))
    errors = [turn.text(f"errors/{key}") for key in dict.fromkeys(problems)]
    text = turn.text("photos_received", count=count, max=MAX_PHOTOS, errors=errors)
    turn.update_data(choices=[c.id for c in choices])
    if not inbound.album:
        turn.send(turn.contact, text, choices=choices)
        return
    due = turn.now + timedelta(seconds=turn.settings.album_window_seconds)
    meta = {META: {"key": inbound.album, "problems": problems}}
    if row is None:
        turn.outbox.send(turn.contact, text, choices=choices, not_before=due, meta=meta)
        return
    payload = dict(row.payload)
    payload.update(text=text, choices=[{"id": c.id, "label": c.label} for c in choices], **meta)
    row.payload = payload
    row.next_attempt_at = due
    turn.session.add(row)
    turn.outbox.track(row)


async def _unsent_reply(turn: Turn, key: str) -> OutboxMessage | None:
    """The album's reply when it is still waiting to go out (never tried, its time not yet come)."""
    query = (select(OutboxMessage)
             .where(OutboxMessage.channel == turn.contact.channel, OutboxMessage.address == turn.contact.address,
                    OutboxMessage.status == OutboxStatus.pending, OutboxMessage.attempts == 0,
                    col(OutboxMessage.next_attempt_at) > turn.now)
             .order_by(col(OutboxMessage.id).desc())
             .with_for_update())
    for row in (await turn.session.exec(query)).all():
        if (row.payload.get(META) or {}).get("key") == key:
            return row
    return None
