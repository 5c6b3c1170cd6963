"""Tables of DESIGN.md section 3. Times are timezone-aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlalchemy.orm import object_session
from sqlalchemy.orm.util import identity_key
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


class FormView(property):
    """A form field that is not a column of its own: on a row it reads and writes other columns; on the class
    it is the column that says whether it is answered (so SQL over a form's fields, like the console's
    funnel, can use it)."""

    def __init__(self, fget: Any, fset: Any, column: str) -> None:
        super().__init__(fget, fset)
        self.column = column

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return getattr(objtype, self.column)
        return super().__get__(obj, objtype)


class ProductStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    revision_requested = "revision_requested"
    rejected = "rejected"
    uploaded = "uploaded"  # approved, uploaded by the owner to INAPROC, waiting for INAPROC's review
    listed = "listed"  # tayang on katalog.inaproc.id (its link in `listing_url`)
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
    cancelled = "cancelled"  # a siaran's message stopped by its sender before it went out


class Owner(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    phone: str | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    reminders_off_at: datetime | None = None  # said "berhenti"/"stop": no more nudges about drafts
    erased_at: datetime | None = None  # the owner withdrew consent and had their personal data erased
    siaran_off_at: datetime | None = None  # said "berhenti siaran"/"stop broadcast": no more Dinas broadcasts


class OfficerRole(StrEnum):
    officer = "officer"  # reviews their region's queue
    admin = "admin"  # also administers the Dinas's whole area (its region): officers, targets, routing


class Officer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    region_code: str = Field(index=True)
    active: bool = True
    role: str = Field(default=OfficerRole.officer, sa_column_kwargs={"server_default": "officer"})
    created_at: datetime = Field(default_factory=utcnow)
    digest_sent_at: datetime | None = None  # the last daily digest of waiting submissions (bot/jobs/scheduled.py)


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
    # Ready to be a penyedia on INAPROC (Katalog Elektronik v6): legal form, akta of a badan usaha,
    # PKP status (whether prices carry PPN), and whether the INAPROC account exists yet.
    bentuk_usaha: str | None = None
    akta: str | None = None
    pkp: str | None = None
    inaproc_akun: str | None = None
    consent_at: datetime | None = None
    consent_version: str | None = None
    skipped: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    completed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # The poster or event that brought the owner (bot/review/reach.py), when they came through one.
    invite_id: int | None = Field(default=None, foreign_key="ownerinvite.id", index=True)


class Product(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("business_id", "number"),  # the owner's own numbering: #1, #2...
        UniqueConstraint("listing_url", name="uq_product_listing_url"),  # one product per INAPROC link (NULLs apart)
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
    # Katalog v6: package size for shipping, whether the price includes PPN (PKP businesses only), and the
    # catalogue's own category path and KBKI code (derived from `kategori`, filled by bot/flows/catalogue_map.py).
    panjang_cm: int | None = None
    lebar_cm: int | None = None
    tinggi_cm: int | None = None
    ppn_termasuk: bool | None = None
    catalogue_path: str | None = None
    kbki: str | None = None
    skipped: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    # Nudges about this draft (bot/jobs/scheduled.py): how many were sent (at most two) and when the last one was.
    reminder_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reminded_at: datetime | None = None
    exported_at: datetime | None = None  # last catalogue export that held it (export --only-new)
    # After approval, on INAPROC: approved by the Dinas, uploaded by the owner (waiting for INAPROC's
    # review), listed (tayang) at `listing_url`, a katalog.inaproc.id link held by one product only.
    approved_at: datetime | None = None
    uploaded_at: datetime | None = None
    listed_at: datetime | None = None
    listing_url: str | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        view = type(self).__dict__.get(name)
        if isinstance(view, FormView):  # pydantic sees the column the class-level view returns, not the view
            view.__set__(self, value)
        else:
            super().__setattr__(name, value)

    # Form fields kept in other columns (bot/flows/product.py): weight and package size asked in one message.
    def _get_kemasan(self) -> int | None:
        return self.berat_gram

    def _set_kemasan(self, value: Any) -> None:
        """An int (the weight alone; the size is kept), a (grams, (p, l, t) or None) pair, or None."""
        if isinstance(value, (tuple, list)):
            grams, size = value
            self.berat_gram = grams
            if size is not None:
                self.ukuran = size
        else:
            self.berat_gram = value

    kemasan = FormView(_get_kemasan, _set_kemasan, column="berat_gram")

    def _get_ukuran(self) -> str | None:
        if self.panjang_cm is None or self.lebar_cm is None or self.tinggi_cm is None:
            return None
        return f"{self.panjang_cm} × {self.lebar_cm} × {self.tinggi_cm} cm"

    def _set_ukuran(self, value: Any) -> None:
        """(p, l, t) in cm, the text `ukuran` shows ("20 × 15 × 5 cm", when copied), or None."""
        if isinstance(value, str):
            value = [int(n) for n in re.findall(r"[0-9]+", value)][:3]
        self.panjang_cm, self.lebar_cm, self.tinggi_cm = value if value else (None, None, None)

    ukuran = FormView(_get_ukuran, _set_ukuran, column="panjang_cm")

    def _get_usaha_pkp(self) -> str | None:
        """The PKP status of the product's business, read from the Business row this session holds (the
        engine reads the owner's business with the conversation lock; the console and reviews load it):
        no query. None when that row is not at hand."""
        session = object_session(self)
        business = session.identity_map.get(identity_key(Business, self.business_id)) if session else None
        return business.pkp if isinstance(business, Business) else None

    def _set_usaha_pkp(self, value: Any) -> None:
        """Nothing to keep: the status is the business's (a copied product takes it from there too)."""

    usaha_pkp = FormView(_get_usaha_pkp, _set_usaha_pkp, column="business_id")


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
    """Each change of a product's status by its owner, or by an officer after approval (officer decisions are
    `Review` rows).

    `source` is the channel used (telegram, whatsapp, terminal, web), when known; `officer_id` says which
    officer made the change (a catalogue link recorded or corrected), None when the owner did.
    """

    # Turnaround: the latest submission before a decision.
    __table_args__ = (Index("ix_producthistory_product_id_status_created_at", "product_id", "status", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    status: str
    source: str | None = None
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
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
    # 0: conversation replies and notices; 1: a siaran (broadcast), sent after every waiting reply.
    priority: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


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
    """A kabupaten/kota's target of approved products (1,000 when no row), set by `umkm-bot region target` or
    an admin's page; `period_start`..`period_end` (inclusive, either open when None) is the time it counts."""

    region_code: str = Field(primary_key=True)
    target: int
    period_start: date | None = None
    period_end: date | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class OfficerInvite(SQLModel, table=True):
    """A one-time invitation an admin made for a new officer (bot/review/invites.py).

    Only the code's SHA-256 is kept; the first chat on `channel` that sends the code before `expires_at`
    becomes the new officer's (`used_at`, `officer_id`).
    """

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True)
    name: str
    region_code: str
    channel: str
    role: str = Field(default=OfficerRole.officer)
    invited_by: int = Field(foreign_key="officer.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    officer_id: int | None = Field(default=None, foreign_key="officer.id")


class OwnerInvite(SQLModel, table=True):
    """A poster's or an event's invitation for UMKM owners of a district (bot/review/reach.py): one per
    (region, source), scanned by many. The code is public (printed), so it only names this row."""

    __table_args__ = (UniqueConstraint("region_code", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    region_code: str
    source: str
    created_by: int | None = Field(default=None, foreign_key="officer.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None


class AdminAction(SQLModel, table=True):
    """One thing an admin did (who, when, what, to what), listed on /dinas/admin/audit; never changed."""

    id: int | None = Field(default=None, primary_key=True)
    admin_id: int = Field(foreign_key="officer.id", index=True)
    action: str  # invite, deactivate, target, route, retry, ...
    target: str  # "officer:12", "region:18.03", "product:7", "outbox:3", "invite:4"
    region_code: str = Field(index=True)  # the region the target belongs to (whose admins may read it)
    detail: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Siaran(SQLModel, table=True):
    """One broadcast of the Dinas to the owners of a region (bot/review/siaran.py): who sent it, the rule, the
    text, how many; each recipient is a `SiaranRecipient` row, the results are read from their outbox rows."""

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int | None = Field(default=None, foreign_key="officer.id", index=True)  # None: from the CLI
    sent_by: str  # the officer's name, or "CLI"
    region_code: str = Field(index=True)
    status_filter: str  # all, draft, revision, approved, listed
    text: str = Field(sa_column=Column(Text, nullable=False))
    recipients: int = 0  # outbox rows written
    skipped: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    request_key: str | None = Field(default=None, unique=True)  # the confirm form's key: a resent form sends once
    created_at: datetime = Field(default_factory=utcnow, index=True)
    cancelled_at: datetime | None = None


class SiaranRecipient(SQLModel, table=True):
    """One owner's chat a siaran went (or would have gone) to: its outbox row, or why it was skipped."""

    __table_args__ = (UniqueConstraint("siaran_id", "contact_id"),)
    id: int | None = Field(default=None, primary_key=True)
    siaran_id: int = Field(foreign_key="siaran.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    route: str  # telegram, whatsapp, whatsapp_template, terminal, skipped
    outbox_id: int | None = Field(default=None, foreign_key="outboxmessage.id", index=True)
    skipped_reason: str | None = None
