"""The shape of the WhatsApp Cloud API webhook payloads the bot reads, checked piece by piece.

A payload is a list of entries, each a list of changes, each with messages and statuses. Each piece is checked
on its own (strictly, for the fields the bot uses; others are allowed): a malformed one is left out and named,
the others are still read. A message without a sender or an id, a reply without its id or an image without
its media id never reaches the engine, so nothing is stored for it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Id = Annotated[str, Field(min_length=1, max_length=256)]
#: A WhatsApp user: their wa_id (digits), or a business-scoped user id.
Sender = Annotated[str, Field(pattern=r"^[0-9A-Za-z._:\-]{1,64}$")]


class Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class Text(Shape):
    body: str


class Reply(Shape):
    id: Id
    title: str = ""


class Interactive(Shape):
    button_reply: Reply | None = None
    list_reply: Reply | None = None

    @model_validator(mode="after")
    def _has_reply(self) -> Interactive:
        if self.button_reply is None and self.list_reply is None:
            raise ValueError("interactive message without a button or list reply")
        return self


class Media(Shape):
    id: Id


class Location(Shape):
    latitude: float
    longitude: float


class TemplateButton(Shape):
    text: str


class Phone(Shape):
    phone: str = ""


class SharedContact(Shape):
    phones: list[Phone] = []


class Message(Shape):
    from_: Sender = Field(alias="from")
    id: Id
    type: Annotated[str, Field(min_length=1, max_length=64)]
    text: Text | None = None
    interactive: Interactive | None = None
    image: Media | None = None
    document: Media | None = None
    location: Location | None = None
    button: TemplateButton | None = None
    contacts: list[SharedContact] | None = None

    @model_validator(mode="after")
    def _has_its_content(self) -> Message:
        """A text message has its text, an image its image, and so on."""
        if self.type in ("text", "interactive", "image", "document", "location", "button") \
                and getattr(self, self.type) is None:
            raise ValueError(f"{self.type} message without its {self.type}")
        return self


class StatusError(Shape):
    code: int


class Status(Shape):
    id: Id
    status: Literal["sent", "delivered", "read", "failed", "deleted", "played"]
    errors: list[StatusError] = []


class Profile(Shape):
    name: str = ""


class Contact(Shape):
    wa_id: str = ""
    profile: Profile = Profile()


class Metadata(Shape):
    phone_number_id: str | None = None


class Value(Shape):
    metadata: Metadata | None = None
    contacts: list[Any] = []
    messages: list[Any] = []
    statuses: list[Any] = []


class Change(Shape):
    field: str = ""
    value: Any = None


class Entry(Shape):
    changes: list[Any] = []


class Payload(Shape):
    entry: list[Any]


T = TypeVar("T", bound=BaseModel)


def parse(model: type[T], data: Any) -> tuple[T | None, str]:
    """(the piece, "") when `data` has the model's shape, else (None, why not)."""
    try:
        return model.model_validate(data), ""
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return None, f"{model.__name__}{'.' + where if where else ''}: {first['msg']}"
