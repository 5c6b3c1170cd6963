"""Channel-neutral messages: what handlers give the engine and what the engine gives back."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

InboundKind = Literal["text", "choice", "photos", "contact", "location", "command", "unsupported"]


@dataclass(frozen=True)
class PhotoIn:
    """One image as received: its bytes and the channel's id for it.

    `size` is the size the channel declared; a handler leaves `data` empty when that is over the limit,
    rather than downloading a file that will be refused.
    """

    data: bytes
    source_id: str = ""
    size: int | None = None


@dataclass(frozen=True)
class Inbound:
    """One event from a person: `channel` + `address` name the chat, `event_id` makes it idempotent."""

    channel: str
    address: str
    event_id: str
    kind: InboundKind = "text"
    text: str = ""
    photos: tuple[PhotoIn, ...] = ()
    phone: str = ""
    latitude: float | None = None
    longitude: float | None = None
    display_name: str = ""
    verified_phone: str = ""  # E.164, when the channel vouches the number is the sender's own
    language: str = ""  # the person's app language as the channel tells it ("en", "en-US"): a new contact's locale
    album: str = ""  # photos sent together share it (a Telegram media group); "burst": any within seconds
    argument: str = ""  # what follows a command ("/start <payload>": an officer's invitation code)

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.address}"


@dataclass(frozen=True)
class Choice:
    """A button: `id` goes back to the engine as a choice inbound, `label` is what the person reads."""

    id: str
    label: str


@dataclass
class Outbound:
    """One message to a person; `photos` are paths under MEDIA_DIR.

    `request_contact` is the label of a "share my phone number" button, or "" for none. `locale` is the
    reader's language, for words a channel adds (a list's button). `notice` names what the message is about
    when it matters outside a chat session ({"kind": "review_result", "params": [...]}), so a channel that
    may only start a conversation with an approved template (WhatsApp) can send that template instead.
    """

    channel: str
    address: str
    text: str
    choices: list[Choice] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    request_contact: str = ""
    locale: str = "id"
    notice: dict[str, Any] | None = None
    outbox_id: int | None = None
    page: int = 1  # a later page of a long list (WhatsApp's "more"), the same choices

    def to_payload(self) -> dict[str, Any]:
        """The outbox row's JSON: everything but the chat and the row's own id (written out: asdict's recursive
        copy showed in the turn's profile; tests/test_messages.py keeps it complete)."""
        data = {"text": self.text, "choices": [{"id": c.id, "label": c.label} for c in self.choices],
                "photos": list(self.photos), "request_contact": self.request_contact, "locale": self.locale,
                "notice": copy.deepcopy(self.notice)}
        if self.page != 1:
            data["page"] = self.page
        return data

    @classmethod
    def from_payload(cls, channel: str, address: str, payload: dict[str, Any],
                     outbox_id: int | None = None) -> Outbound:
        return cls(
            channel=channel,
            address=address,
            text=payload.get("text", ""),
            choices=[Choice(**c) for c in payload.get("choices", [])],
            photos=list(payload.get("photos", [])),
            request_contact=str(payload.get("request_contact") or ""),
            locale=str(payload.get("locale") or "id"),
            notice=payload.get("notice"),
            outbox_id=outbox_id,
            page=int(payload.get("page") or 1),
        )


class Replies(list):  # type: ignore[type-arg]
    """What one event queued (a list of Outbound); `duplicate` when the event had been applied before."""

    duplicate: bool = False

    @classmethod
    def of_duplicate(cls) -> Replies:
        replies = cls()
        replies.duplicate = True
        return replies
