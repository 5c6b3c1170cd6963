"""A product's road after approval, for every front door: approved -> [uploaded] -> listed (tayang on INAPROC).

The one place these statuses change (the chat kit and the console both call it): the catalogue category
filled in on approval, "uploaded" (the owner says they uploaded it), "listed" with its katalog.inaproc.id
link, and an officer's correction of a link. Channel-free like bot/review/service.py: it takes a session, the
caller's `OutboxWriter`, the renderer and an `Actor`; every change is a `ProductHistory` row with who (the
officer, or None for the owner), when and from where. Refusals are `Refused(key)`, their words in
`templates/<locale>/kit/refused.j2`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import idna
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from yarl import URL

from bot.delivery.outbox import OutboxWriter
from bot.flows import catalogue_map
from bot.review.scope import covering_codes, covers
from bot.words.i18n import Renderer
from storage.models import Business, Contact, Officer, Product, ProductHistory, ProductStatus

MAX_LINK = 500
HTTPS_PORT = 443
ON_THE_ROAD = (ProductStatus.approved, ProductStatus.uploaded)  # may be recorded as listed
# A token of a message that may be meant as a link: with a scheme, "www.", or a host and a path.
_TOKEN = re.compile(r"\S+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
_CATALOGUE_WORDS = ("inaproc", "katalog")


class Refused(ValueError):
    """A catalogue change refused; `key` names the reason (`kit/refused.j2`)."""

    @property
    def key(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Actor:
    """Who changes the status and through which door (telegram, whatsapp, terminal, web).

    `officer` is None when the owner does it; `contact` is the owner's chat they did it from (told there).
    """

    source: str
    officer: Officer | None = None
    contact: Contact | None = None


def hosts_of(setting: str) -> tuple[str, ...]:
    """`CATALOGUE_HOSTS` ("a.example, b.example") as lower-case host names."""
    return tuple(h.strip().lower() for h in setting.split(",") if h.strip())


# --- links -----------------------------------------------------------------------------------------------

def _host_problem(url: URL, hosts: tuple[str, ...]) -> str | None:
    raw = (url.raw_host or "").lower()
    if not raw:
        return "link_no_host"
    if any(label.startswith("xn--") for label in raw.split(".")) or not raw.isascii():
        return "link_lookalike"  # an IDN (Cyrillic "а" for "a"...): never the catalogue's own host
    try:
        idna.encode(raw)
    except idna.IDNAError:
        return "link_wrong_host"
    return None if raw in hosts else "link_wrong_host"


def parse_link(text: str, hosts: tuple[str, ...]) -> str:
    """A catalogue product link as stored (fragment dropped); raises Refused(key) for anything else."""
    text = text.strip().strip("<>()[]\"'")
    if len(text) > MAX_LINK:
        raise Refused("link_too_long")
    if not _SCHEME.match(text):
        raise Refused("link_no_scheme")
    try:
        url = URL(text)
    except ValueError:
        raise Refused("link_invalid") from None
    if url.scheme != "https":
        raise Refused("link_not_https")
    if url.raw_user is not None or url.raw_password is not None:
        raise Refused("link_userinfo")
    if (problem := _host_problem(url, hosts)) is not None:
        raise Refused(problem)
    if url.explicit_port is not None and url.explicit_port != HTTPS_PORT:
        raise Refused("link_port")
    if url.raw_path.strip("/") == "":
        raise Refused("link_no_path")
    return str(url.with_fragment(None).with_port(None))


def _looks_like_catalogue(token: str, hosts: tuple[str, ...]) -> bool:
    """A link (with a scheme) naming the catalogue, a look-alike or a non-ASCII host; or, without a scheme, a
    host-and-path naming INAPROC or a catalogue host ("katalog.inaproc.id/produk/1")."""
    lowered = token.lower()
    if _SCHEME.match(lowered):
        return any(word in lowered for word in (*_CATALOGUE_WORDS, *hosts, "xn--")) or not token.isascii()
    return ("/" in lowered or lowered.startswith("www.")) and any(w in lowered for w in ("inaproc", *hosts))


def find_link(text: str, hosts: tuple[str, ...] = ("katalog.inaproc.id",)) -> str | None:
    """The first token of a message that looks like a link to the catalogue (the real host, a look-alike, a
    non-ASCII host), or None: other links (a shop's own website in a description) are no catalogue link."""
    return next((t for t in _TOKEN.findall(text or "") if _looks_like_catalogue(t, hosts)), None)


# --- status changes ----------------------------------------------------------------------------------------

@cache
def _categories() -> catalogue_map.CatalogueMap:
    return catalogue_map.load()


def on_approved(product: Product, now: object) -> None:
    """Fills what the approval fixes: when, and the catalogue category path and KBKI of its category."""
    product.approved_at = now  # type: ignore[assignment]
    row = _categories().get(product.kategori or "")
    if row is not None:
        product.catalogue_path = product.catalogue_path or row.catalogue_path
        product.kbki = product.kbki or row.kbki_code or None


async def _locked(session: AsyncSession, actor: Actor, product_id: int) -> tuple[Product, Business]:
    """The product (row locked) and its business; Refused("not_found") outside an officer's region."""
    product = (await session.exec(select(Product).where(Product.id == product_id).with_for_update()
                                  .execution_options(populate_existing=True))).first()
    business = await session.get(Business, product.business_id) if product is not None else None
    if product is None or business is None or (
            actor.officer is not None and not covers(actor.officer.region_code, business.region_code)):
        raise Refused("not_found")
    return product, business


def _record(session: AsyncSession, outbox: OutboxWriter, actor: Actor, product: Product, status: str) -> None:
    product.status = status
    product.updated_at = outbox.now
    session.add(ProductHistory(product_id=product.id, status=status, source=actor.source,  # type: ignore[arg-type]
                               officer_id=actor.officer.id if actor.officer else None, created_at=outbox.now))


async def mark_uploaded(session: AsyncSession, outbox: OutboxWriter, actor: Actor, product_id: int) -> Product:
    """Approved -> uploaded (waiting for INAPROC's review): the owner says they uploaded it; idempotent."""
    product, _ = await _locked(session, actor, product_id)
    if product.status == ProductStatus.uploaded:
        return product
    if product.status != ProductStatus.approved:
        raise Refused("not_approved")
    product.uploaded_at = outbox.now
    _record(session, outbox, actor, product, ProductStatus.uploaded)
    await session.flush()
    return product


async def record_link(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, actor: Actor,
                      product_id: int, link: str, *, hosts: tuple[str, ...]) -> Product:
    """Approved/uploaded -> listed at `link` (checked by `parse_link`); the owner and the region's officers told.

    Refused: a bad link (its key), "link_taken" (another product holds it), "already_listed", "not_approved".
    """
    url = parse_link(link, hosts)
    product, business = await _locked(session, actor, product_id)
    holder = (await session.exec(select(Product.id).where(Product.listing_url == url,
                                                          Product.id != product.id))).first()
    if holder is not None:
        raise Refused("link_taken")
    if product.status == ProductStatus.listed:
        raise Refused("already_listed")
    if product.status not in ON_THE_ROAD:
        raise Refused("not_approved")
    product.listing_url, product.listed_at = url, outbox.now
    _record(session, outbox, actor, product, ProductStatus.listed)
    await session.flush()
    await _tell_owner(session, outbox, renderer, actor, business, "owner/listed", product=product)
    await _tell_officers(session, outbox, renderer, actor, business, product)
    return product


async def remove_link(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, actor: Actor,
                      product_id: int) -> Product:
    """An officer's correction: listed -> uploaded (or approved), the link dropped; the owner told."""
    if actor.officer is None:
        raise Refused("officer_only")
    product, business = await _locked(session, actor, product_id)
    if product.status != ProductStatus.listed:
        raise Refused("not_listed")
    old, product.listing_url, product.listed_at = product.listing_url, None, None
    _record(session, outbox, actor, product,
            ProductStatus.uploaded if product.uploaded_at else ProductStatus.approved)
    await session.flush()
    await _tell_owner(session, outbox, renderer, actor, business, "owner/link_removed", product=product, link=old)
    return product


# --- notices -------------------------------------------------------------------------------------------------

async def _tell_owner(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, actor: Actor,
                      business: Business, template: str, **ctx: object) -> None:
    """The owner's chat they acted from, else their most recently used one."""
    contact = actor.contact if actor.officer is None else None
    if contact is None:
        contacts = (await session.exec(select(Contact).where(Contact.owner_id == business.owner_id))).all()
        if not contacts:
            return
        contact = max(contacts, key=lambda c: (c.last_inbound_at is not None, c.last_inbound_at, c.id))
    outbox.send(contact, renderer.render(contact.locale, template, **ctx))


async def _tell_officers(session: AsyncSession, outbox: OutboxWriter, renderer: Renderer, actor: Actor,
                         business: Business, product: Product) -> None:
    """The region's active officers (but the one who recorded it) learn the product is tayang."""
    codes = covering_codes(business.region_code)
    if not codes:
        return
    query = (select(Contact).join(Officer, col(Officer.id) == Contact.officer_id)
             .where(Officer.active == True, col(Officer.region_code).in_(codes))  # noqa: E712
             .order_by(col(Contact.id)))
    for contact in (await session.exec(query)).all():
        if actor.officer is not None and contact.officer_id == actor.officer.id:
            continue
        outbox.send(contact, renderer.render(contact.locale, "officer/listed", product=product, business=business,
                                             by_officer=actor.officer.name if actor.officer else ""))
