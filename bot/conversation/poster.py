"""An owner who came by a poster's or an event's invitation (bot/review/reach.py): the code in their first
messages (Telegram `/start <code>`, WhatsApp's prefilled text) is kept in the conversation until the business
exists, then on the business (`invite_id`); the region question then offers the invitation's kab/kota to
confirm ("Kabupaten X, benar?": people scan a neighbour's poster). A forged, unknown or expired code changes
nothing: the owner starts as anyone does.
"""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.domain import regions
from bot.domain.messages import Inbound
from bot.review import reach
from storage.models import Business, OwnerInvite


async def arrival(turn: Turn, inbound: Inbound) -> int | None:
    """The invitation this newcomer's message carries, else the one an earlier message carried (or None)."""
    if inbound.kind in ("command", "text"):
        invite = await reach.arrived(turn.session, f"{inbound.text} {inbound.argument}", turn.now)
        if invite is not None:
            return invite.id
    kept = turn.data.get("invite_id")
    return kept if isinstance(kept, int) else None


def keep(turn: Turn, invite_id: int | None) -> None:
    """Records the invitation on the business once it exists, in the conversation until then."""
    if invite_id is None:
        return
    if turn.business is not None:
        if turn.business.invite_id is None:
            turn.business.invite_id = invite_id
    elif turn.contact.owner_id is None:
        turn.update_data(invite_id=invite_id)


async def region_hint(turn: Turn, record: object) -> regions.Region | None:
    """The invitation's kab/kota to offer at the region question, once (not again after "Bukan, ketik lagi")."""
    if not isinstance(record, Business) or record.region_code or record.invite_id is None:
        return None
    if turn.data.get("region_hinted"):
        return None
    invite = await turn.session.get(OwnerInvite, record.invite_id)
    region = regions.get_region(invite.region_code) if invite is not None else None
    if region is not None:
        turn.update_data(region_hinted=True)
    return region
