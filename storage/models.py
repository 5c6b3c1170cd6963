"""Tables of DESIGN.md section 3. Times are timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


# Default factories written in Python, not `list`/`dict`: building a row asks pydantic whether each factory
# takes the validated data (`inspect.signature`, uncached), and a builtin's signature is parsed from its text
# signature, ~0.2 ms a field; a Python function's is read directly (benchmarks/turn_cost.py: /start, consent).
def empty_list() -> list[Any]:
    return []


def empty_dict() -> dict[str, Any]:
    return {}


class ProductStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    revision_requested = "revision_requested"
    rejected = "rejected"
    deleted = "deleted"  # a draft its owner threw away (kept, not shown)


class Decision(StrEnum):
    approved = "approved"
    revision = "revision"
    rejected = "rejected"


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    held = "held"  # cannot reach the person now (WhatsApp's 24-hour window); sent when they write again


class Owner(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    phone: str | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    reminders_off_at: datetime | None = None  # said "berhenti"/"stop": no more nudges about drafts
    erased_at: datetime | None = None  # the owner withdrew consent and had their personal data erased


class Officer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    region_code: str = Field(index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    digest_sent_at: datetime | None = None  # the last daily digest of waiting submissions (bot/jobs.py)


class Contact(SQLModel, table=True):
    """One chat identity on one channel, belonging to an owner or an officer."""

    __table_args__ = (UniqueConstraint("channel", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str
    address: str
    locale: str = "id"
    display_name: str = ""
    owner_id: int | None = Field(default=None, foreign_key="owner.id", index=True)
    officer_id: int | None = Field(default=None, foreign_key="officer.id", index=True)
    last_inbound_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Business(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="owner.id", unique=True)
    nama_usaha: str | None = None
    nama_pemilik: str | None = None
    nib: str | None = None
    kbli: str | None = None
    npwp: str | None = None
    skala: str | None = None
    region_code: str | None = Field(default=None, index=True)
    alamat: str | None = Field(default=None, sa_column=Column(Text))
    phone: str | None = None
    email: str | None = None
    consent_at: datetime | None = None
    consent_version: str | None = None
    skipped: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    completed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Product(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("business_id", "number"),  # the owner's own numbering: #1, #2...
        # The officers' queue: submitted products, oldest first.
        Index("ix_product_status_submitted_at", "status", "submitted_at"),
        # The console's region figures: products of a region's businesses by status, from the index alone.
        Index("ix_product_business_id_status", "business_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    business_id: int = Field(foreign_key="business.id", index=True)
    number: int | None = None  # the owner's own product number: #1, #2... of their business
    status: str = Field(default=ProductStatus.draft, index=True)
    nama_produk: str | None = None
    kategori: str | None = None
    merek: str | None = None
    deskripsi: str | None = Field(default=None, sa_column=Column(Text))
    harga: int | None = Field(default=None, sa_type=BigInteger)
    satuan: str | None = None
    stok: int | None = Field(default=None, sa_type=BigInteger)
    min_beli: int | None = Field(default=None, sa_type=BigInteger)
    berat_gram: int | None = None
    pdn: bool | None = None
    tkdn: float | None = None
    pirt: str | None = None
    bpom: str | None = None
    halal: str | None = None
    sni: str | None = None
    skipped: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    # Nudges about this draft (bot/jobs.py): how many were sent (at most two) and when the last one was.
    reminder_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reminded_at: datetime | None = None
    exported_at: datetime | None = None  # last catalogue export that held it (export --only-new)


class ProductPhoto(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    path: str
    sha256: str
    width: int
    height: int
    source_id: str = ""
    removed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ReviewSource(StrEnum):
    chat = "chat"
    web = "web"


class Review(SQLModel, table=True):
    """An officer's decision: who (officer), when, from where (`source`: chat or web), why (reason, flags).

    `snapshot` holds the product's and business's answers at decision time, so a resubmission can show what
    changed since. Flagged fields are plain field names (product and business field names do not collide).
    """

    # A product's approval (export, since) and decisions by kind, without reading the table.
    __table_args__ = (Index("ix_review_product_id_decision_created_at", "product_id", "decision", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    officer_id: int = Field(foreign_key="officer.id")
    decision: str
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    flagged_fields: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    source: str = Field(default=ReviewSource.chat, sa_column_kwargs={"server_default": "chat"})
    snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class ProductHistory(SQLModel, table=True):
    """Each change of a product's status by its owner (officer decisions are `Review` rows).

    `source` is the channel the owner used (telegram, whatsapp, terminal), when known.
    """

    # Turnaround: the latest submission before a decision.
    __table_args__ = (Index("ix_producthistory_product_id_status_created_at", "product_id", "status", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    status: str
    source: str | None = None
    #: On submission: the answers and photo hashes sent, to tell a resubmission what changed.
    snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class DinasLogin(SQLModel, table=True):
    """One sign-in link to the officers' console and the session it opened.

    `used_at` makes the link single use; `ended_at` (logout) ends the session opened with it at once.
    """

    token_id: str = Field(primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None
    ended_at: datetime | None = None


class Conversation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", unique=True)
    flow: str = "start"
    step: str = ""
    data: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    product_id: int | None = Field(default=None, foreign_key="product.id")
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class InboundEvent(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str
    external_id: str
    received_at: datetime = Field(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """One message to one chat. A row is sent only after every earlier row of its chat (`channel`, `address`).

    `lease_owner` + `leased_until`: the deliverer sending it now ("name@boot"); `parts_sent`: how many parts of
    a multi-part message (album, then text pieces) already went out, so a retry sends only the rest.
    """

    __table_args__ = (Index("ix_outboxmessage_chat", "channel", "address", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(index=True)
    address: str
    payload: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OutboxStatus.pending, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    provider_message_id: str | None = Field(default=None, index=True)
    provider_status: str | None = None  # as the channel reports it: sent, delivered, read, failed
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    lease_owner: str | None = None
    leased_until: datetime | None = None
    parts_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class ChannelState(SQLModel, table=True):
    """One channel account's health as the deliverer sees it; a paused channel keeps its queue.

    Written by delivery (a configuration error such as a revoked token pauses the channel), read by
    `/readyz` and `umkm-bot status`.
    """

    channel: str = Field(primary_key=True)
    paused_reason: str | None = None
    paused_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class RegionTarget(SQLModel, table=True):
    """A kabupaten/kota's target of approved products (1,000 when no row), set by `umkm-bot region target`."""

    region_code: str = Field(primary_key=True)
    target: int
    updated_at: datetime = Field(default_factory=utcnow)
