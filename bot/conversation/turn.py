"""What one event may do while it is handled: read the contact's state and write replies to the outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import OutboxWriter
from bot.domain.messages import Choice, Outbound
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.models import Business, Contact, Conversation


@dataclass(frozen=True)
class TurnContext:
    """What a turn needs of the bot around it (the engine makes one): settings, the words, the clock."""

    settings: Settings
    renderer: Renderer
    clock: Callable[[], datetime]


class Turn:
    """The handling of one inbound event: the locked contact and conversation, and the replies so far."""

    def __init__(self, context: TurnContext, session: AsyncSession, contact: Contact, conversation: Conversation, *,
                 business: Business | None = None, notice_waiting: bool = True, held_back: bool = True) -> None:
        """What the engine read with the lock: the owner's `business` (None: not read), whether a revision
        notice is waiting, whether the chat has replies held back; unknown (True) means "look"."""
        self.context = context
        self.session = session
        self.contact = contact
        self.conversation = conversation
        self.business = business
        self.notice_waiting = notice_waiting
        self.now: datetime = context.clock()
        self.outbox = OutboxWriter(session, self.now)
        self.notes: list[str] = []  # said once, at the top of this turn's next message (`note`)
        if not held_back:
            self.outbox.known_clear.add((contact.channel, contact.address))

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @property
    def renderer(self) -> Renderer:
        return self.context.renderer

    @property
    def engine(self) -> TurnContext:
        """The former name of `context` (bot/conversation/officer.py still reads `turn.engine.renderer`)."""
        return self.context

    @property
    def locale(self) -> str:
        return self.contact.locale

    # --- conversation state -------------------------------------------------------------------------

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.conversation.data or {})

    def set_state(self, flow: str, step: str = "", **data: Any) -> None:
        """Moves the conversation to `flow`/`step`, replacing its scratch data."""
        self.conversation.flow = flow
        self.conversation.step = step
        self.conversation.data = dict(data)

    def update_data(self, **changes: Any) -> None:
        self.conversation.data = {**self.data, **changes}

    # --- words ----------------------------------------------------------------------------------------

    def text(self, template: str, locale: str | None = None, **ctx: Any) -> str:
        return self.renderer.render(locale or self.locale, template, **ctx)

    def label(self, group: str, key: str, locale: str | None = None) -> str:
        return self.renderer.label(locale or self.locale, group, key)

    def labels(self, locale: str | None = None) -> dict[str, Any]:
        return self.renderer.labels(locale or self.locale)

    def button(self, choice_id: str, key: str, locale: str | None = None) -> Choice:
        """A choice whose label is `labels.buttons[key]`."""
        return Choice(choice_id, self.label("buttons", key, locale))

    # --- replies -------------------------------------------------------------------------------------

    def say(self, template: str, *, choices: Iterable[Choice] = (), photos: Iterable[str] = (),
            request_contact: str = "", prefix: str = "", **ctx: Any) -> None:
        """Renders `template` (after `prefix`, e.g. a correction) for this contact.

        The choices are remembered so that a typed number ("2") picks the second one.
        """
        choice_list = list(choices)
        self.update_data(choices=[c.id for c in choice_list])
        body = self.text(template, **ctx)
        if self.notes:
            prefix = "\n".join([*self.notes, prefix]).strip()
            self.notes.clear()
        self.send(self.contact, f"{prefix}\n\n{body}" if prefix else body, choices=choice_list,
                  photos=photos, request_contact=request_contact)

    def note(self, template: str, **ctx: Any) -> None:
        """A line for the top of the next message this turn says (e.g. how a typed answer was read)."""
        self.notes.append(self.text(template, **ctx))

    def send(self, contact: Contact, text: str, *, choices: Iterable[Choice] = (),
             photos: Iterable[str] = (), request_contact: str = "", notice: dict[str, Any] | None = None) -> None:
        """Queues a message to any contact through this turn's outbox writer (see `OutboxWriter.send`)."""
        self.outbox.send(contact, text, choices=choices, photos=photos, request_contact=request_contact,
                         notice=notice)

    async def commit_outbox(self) -> list[Outbound]:
        """Flushes the queued messages so they have outbox ids; the caller's transaction commits them."""
        return await self.outbox.flush()

    async def contacts_of_owner(self, owner_id: int) -> list[Contact]:
        query = select(Contact).where(Contact.owner_id == owner_id)
        return list((await self.session.exec(query)).all())

    async def contacts_of_officer(self, officer_id: int) -> list[Contact]:
        query = select(Contact).where(Contact.officer_id == officer_id)
        return list((await self.session.exec(query)).all())
