"""A new officer's first message: the invitation code an admin's link typed for them (bot/review/invites.py).

Telegram brings it as `/start <code>`, WhatsApp as the text of the first message. A chat with a valid code
becomes the officer's, sees the officer menu and gets the submissions that waited for their region; any other
first message (a forged, used or expired code too) goes on as usual.
"""

from __future__ import annotations

from bot.conversation import officer
from bot.conversation.turn import Turn
from bot.domain.messages import Inbound
from bot.review import invites
from bot.review.officers import send_backlog


async def claim(turn: Turn, inbound: Inbound) -> bool:
    """Binds this chat to the officer its invitation names and greets them; False when it carries none."""
    if inbound.kind not in ("command", "text"):
        return False
    text = f"{inbound.text} {inbound.argument}"
    if invites.find_code(text) is None:
        return False
    claimed = await invites.claim(turn.session, turn.contact, text, turn.now)
    if claimed is None:
        return False
    officer.show_menu(turn, claimed.officer)
    await send_backlog(turn.session, turn.outbox, turn.renderer, turn.contact, claimed.waiting)
    return True
