"""The Telegram updates the bot reads, checked and parsed in one pass before an update becomes an Inbound.

Only the fields the bot uses, and the usual companions of a text (entities, a reply, a keyboard, a sender
chat), are read; others are allowed and ignored. Strictly: a number where text is expected, junk entities, a
message without its chat or sender, an empty photo list or a button press without its data is refused here,
so nothing is stored for it and no handler trips over it. The handler reads the Inbound from this model:
python-telegram-bot's `Update.de_json` would parse every field a second time, about a tenth of a webhook's CPU.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: Telegram's ids fit in 52 bits; update ids are positive.
TelegramId = Annotated[int, Field(ge=-(2**53), le=2**53)]
FileId = Annotated[str, Field(min_length=1, max_length=512)]


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class User(_Shape):
    id: TelegramId
    first_name: str = ""
    last_name: str | None = None
    language_code: str | None = None

    @property
    def full_name(self) -> str:
        """As python-telegram-bot's `User.full_name`: first and last name."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


class Chat(_Shape):
    id: TelegramId
    type: str


class PhotoSize(_Shape):
    file_id: FileId
    width: int
    height: int
    file_size: int | None = None


class Document(_Shape):
    file_id: FileId
    file_size: int | None = None


class SharedContact(_Shape):
    phone_number: str
    user_id: TelegramId | None = None


class Location(_Shape):
    latitude: float
    longitude: float


class Entity(_Shape):
    type: str
    offset: int
    length: int


class InlineKeyboard(_Shape):
    inline_keyboard: list[list[dict[str, Any]]]


class Message(_Shape):
    message_id: int
    date: int
    chat: Chat
    from_: User = Field(alias="from")
    text: str | None = None
    photo: Annotated[list[PhotoSize], Field(min_length=1)] | None = None
    document: Document | None = None
    contact: SharedContact | None = None
    location: Location | None = None
    media_group_id: str | None = None
    entities: list[Entity] | None = None
    caption_entities: list[Entity] | None = None
    reply_to_message: dict[str, Any] | None = None
    reply_markup: InlineKeyboard | None = None
    sender_chat: Chat | None = None


class ButtonMessage(_Shape):
    """The message a button was on (possibly an inaccessible one): only its chat is read."""

    chat: Chat


class CallbackQuery(_Shape):
    id: Annotated[str, Field(min_length=1)]
    from_: User = Field(alias="from")
    message: ButtonMessage
    data: Annotated[str, Field(min_length=1, max_length=64)]


class Update(_Shape):
    update_id: Annotated[int, Field(ge=0, le=2**53)]
    message: Message | None = None
    callback_query: CallbackQuery | None = None


def read(data: Any) -> Update | str:
    """The update `data` holds, or why it is not one the bot can read."""
    if not isinstance(data, dict):
        return f"not an object but {type(data).__name__}"
    try:
        return Update.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
