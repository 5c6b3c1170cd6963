"""The Indonesian and English template sets: same files, same labels, short buttons, and every one renders."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from jinja2 import meta

from bot.flows.words import global_action
from bot.review.service import Resubmission
from bot.settings import ROOT
from bot.words.i18n import LOCALES, Renderer
from bot.words.upload_kit import KitRow
from storage.models import Business, Officer, Product, Review

TEMPLATES = ROOT / "templates"
RENDERER = Renderer(TEMPLATES)

BUTTON_MAX = 20  # WhatsApp reply buttons cut at 20 characters
OPTION_MAX = 24  # WhatsApp list rows cut at 24 characters
FIELD_MAX = OPTION_MAX - 2  # officers pick fields from a list, shown as "✓ <field>" once chosen

# Words the bot accepts anywhere (bot/flows/words.py); each locale's templates must show its own.
TYPED_WORDS = {
    "id": {"menu", "kembali", "lewati", "batal", "produk saya", "bahasa", "bantuan", "mulai", "berhenti", "dasbor",
           "data saya", "hapus data", "hapus draf", "berhenti siaran", "mulai siaran"},
    "en": {"menu", "back", "skip", "cancel", "my products", "language", "help", "start", "stop", "dashboard",
           "my data", "delete my data", "delete draft", "stop broadcast", "start broadcast"},
}

# Indonesian words that should not survive in an English message (official names like
# "Dinas Koperasi & UMKM", "kabupaten/kota" or "Katalog Lokal" are allowed).
INDONESIAN_MARKERS = re.compile(
    r"\b(bapak|ibu|silakan|mohon|tolong|anda|kami|saya|yang|dan|tidak|belum|sudah|dengan|untuk|ini|itu"
    r"|produk|usaha|kirim|pilih|ketik|lewati|batal|kembali|bantuan|terima kasih|maaf|selamat)\b",
    re.IGNORECASE,
)
# Deliberately bilingual: someone who can't read the current language must still find the switch.
BILINGUAL = {"language"}

WHEN = datetime(2025, 3, 5, 7, 30, tzinfo=UTC)


def template_names(locale: str) -> set[str]:
    """Template names ("officer/submission") of one locale, without the `.j2`."""
    base = TEMPLATES / locale
    return {p.relative_to(base).with_suffix("").as_posix() for p in base.rglob("*.j2")}


RENDERED = sorted(template_names("id") - {"labels", "kit/labels"})  # labels: dicts, not messages


def source(locale: str, name: str) -> str:
    return (TEMPLATES / locale / f"{name}.j2").read_text(encoding="utf-8")


def variables(locale: str, name: str) -> set[str]:
    """The names a template reads from its context (besides `labels` and `date`, always given)."""
    found = meta.find_undeclared_variables(RENDERER.env.parse(source(locale, name)))
    return found - {"labels", "date"}


def sample_product(**changes: Any) -> Product:
    values: dict[str, Any] = dict(id=7, business_id=1, nama_produk="Keripik", harga=25000, status="submitted",
                                  submitted_at=WHEN)
    return Product(**{**values, **changes})


def sample_business() -> Business:
    return Business(id=1, owner_id=1, nama_usaha="Keripik Singkong Bu Sari", nama_pemilik="Sari Wulandari",
                    nib="1234567890123", region_code="18.03", phone="+6281234567890")


def sample_context(locale: str, names: set[str]) -> dict[str, Any]:
    """Suitable sample values for the variables `names` of a template, in `locale` where it matters."""
    labels = RENDERER.labels(locale)
    fields = list(labels["fields"])
    rows = [(labels["fields"]["nama_produk"], "Keripik Singkong Balado 250 g"),
            (labels["fields"]["harga"], "Rp25.000"), (labels["fields"]["merek"], labels["words"]["skipped"])]
    samples: dict[str, Any] = {
        "product": sample_product(),
        "products": [sample_product(), sample_product(id=8, nama_produk=None, harga=None, status="draft")],
        "business": sample_business(),
        "pending": [(sample_product(), sample_business())],
        "review": Review(id=1, product_id=7, officer_id=1, decision="approved", reason="OK", created_at=WHEN),
        "officer": Officer(id=1, name="Budi", region_code="18.03"),
        "channel": "telegram",
        "address": "5551234",
        "rows": rows,
        "product_rows": rows,
        "business_rows": rows,
        "fields": fields[:3],
        "flagged": [fields[0], fields[-1]],
        "status": "draft",
        "decision": "rejected",
        "errors": [RENDERER.render(locale, "errors/photo_too_small")],
        "question": RENDERER.render(locale, "ask/product/harga"),
        "candidates": ["18.03", "18.04"],
        "current": "Rp25.000",
        "count": 2,
        "max": 5,
        "position": 3,
        "total": 12,
        "optional": True,
        "is_choice": True,
        "notified": True,
        "flow": "product",
        "name": "Keripik Singkong Bu Sari",
        "region": "Kabupaten Lampung Utara",
        "decider": "Budi",
        "reason": "Photo 2 is blurry.",
        "paths": ["/home/sari/foto/keripik.jpg"],
        "waiting": [(sample_product(submitted_at=WHEN), sample_business())],
        "days": 2,
        "others": 2,
        "last": True,
        "url": "http://127.0.0.1:8080/dinas/login/abc.def",
        "source": "web",
        "resubmission": Resubmission(number=2, changed=["harga", "nib"], note="Foto buram.", flagged=["harga"]),
        "value": "Rp50",
        "limit": 10,
        "min": 20,
        "number": 2,
        "chats": ["telegram:5551234", "whatsapp:6281234567890"],
        "kept": True,
        "previous": sample_product(),
        "original": sample_product(),
        "kbli": "10794",
        "division": "10",
        "kategori": "kerajinan",
        "fitting": ["makanan"],
        "kit": [KitRow("nama_produk", labels["fields"]["nama_produk"], "Keripik *Balado*"),
                KitRow("sni", labels["fields"]["sni"], "")],
        "host": "katalog.inaproc.id",
        "link": "https://katalog.inaproc.id/p/1",
        "by_officer": "Budi",
        "key": "link_taken",
        "text": "Pelatihan foto, Sabtu 09.00 WIB.",
        "field": labels["fields"]["harga"],
        "same_nib": ["Keripik Pak Budi"],
        "hinted": "Kabupaten Lampung Utara",  # the region of the poster the owner came by
        "code": "daftar_3QR7dET8VJky",
    }
    unknown = names - samples.keys()
    assert not unknown, f"add sample values for {sorted(unknown)} to tests/test_templates.py"
    return {k: samples[k] for k in names}


# Other values worth rendering once each (the other branches of the templates); MISSING leaves it out.
MISSING = object()
VARIANTS: dict[str, list[Any]] = {
    "review": [None],
    "resubmission": [None, Resubmission(number=1, changed=[], note="Foto buram.")],
    "source": ["chat"],
    "decision": ["revision", "approved"],
    "flow": ["business", "summary", "menu"],
    "count": [0, 5],
    "current": [None],
    "optional": [False],
    "notified": [False],
    "products": [[]],
    "pending": [[]],
    "others": [0],
    "last": [False],
    "flagged": [[]],
    "errors": [[]],
    "fitting": [[]],
    "kept": [False],
    "division": ["99"],
    "candidates": [MISSING],
    "hinted": [MISSING],
    "name": [""],
    "status": ["submitted", "approved", "revision_requested", "rejected"],
    "same_nib": [[]],
}


def contexts(locale: str, name: str) -> list[dict[str, Any]]:
    base = sample_context(locale, variables("id", name))
    result = [base]
    for key, values in VARIANTS.items():
        if key in base:
            for value in values:
                ctx = dict(base)
                if value is MISSING:
                    del ctx[key]
                else:
                    ctx[key] = value
                result.append(ctx)
    return result


# --- the two sets match ----------------------------------------------------------------------------


def test_same_template_files_in_every_locale() -> None:
    expected = template_names("id")
    for locale in LOCALES:
        assert template_names(locale) == expected, locale


@pytest.mark.parametrize("name", RENDERED)
def test_same_variables_in_every_locale(name: str) -> None:
    for locale in LOCALES:
        assert variables(locale, name) == variables("id", name), f"{locale}/{name}"


def _key_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _key_tree(v) for k, v in value.items()}
    return None


def test_labels_have_the_same_dicts_and_keys() -> None:
    expected = _key_tree(RENDERER.labels("id"))
    assert set(expected) == {"fields", "options", "buttons", "statuses", "decisions", "words", "commands"}
    for locale in LOCALES:
        assert _key_tree(RENDERER.labels(locale)) == expected, locale


# --- labels fit the channels ---------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_labels_are_short_enough(locale: str) -> None:
    labels = RENDERER.labels(locale)
    long_buttons = {k: v for k, v in labels["buttons"].items() if len(v) > BUTTON_MAX}
    assert not long_buttons, f"buttons over {BUTTON_MAX} characters: {long_buttons}"
    long_options = {f"{field}.{k}": v for field, options in labels["options"].items()
                    for k, v in options.items() if len(v) > OPTION_MAX}
    assert not long_options, f"options over {OPTION_MAX} characters: {long_options}"
    long_fields = {k: v for k, v in labels["fields"].items() if len(v) > FIELD_MAX}
    assert not long_fields, f"field names over {FIELD_MAX} characters: {long_fields}"
    assert all(v.strip() for group in ("fields", "buttons", "statuses", "decisions") for v in labels[group].values())


@pytest.mark.parametrize("locale", LOCALES)
def test_emphasised_words_are_buttons_or_typed_words(locale: str) -> None:
    """*Like this* names a button the reader sees, or a word the bot accepts, in the reader's language."""
    buttons = {v.casefold() for v in RENDERER.labels(locale)["buttons"].values()}
    assert all(global_action(word) for word in TYPED_WORDS[locale])
    allowed = buttons | TYPED_WORDS[locale]
    for name in RENDERED:
        for word in re.findall(r"\*([^*\n]+)\*", source(locale, name)):
            assert word.casefold() in allowed, f"{locale}/{name}: *{word}*"


# --- every template renders ----------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", RENDERED)
def test_renders(locale: str, name: str) -> None:
    for ctx in contexts(locale, name):
        text = RENDERER.render(locale, name, **ctx)
        assert text.strip(), f"{locale}/{name} rendered empty with {ctx}"
        assert "{{" not in text and "{%" not in text
        if locale == "en" and name not in BILINGUAL:
            marker = INDONESIAN_MARKERS.search(text)
            assert marker is None, f"en/{name} still has Indonesian {marker.group()!r}: {text}"


def test_rendered_texts_differ_between_locales() -> None:
    """A copied-but-untranslated English template would read exactly like the Indonesian one."""
    same = [name for name in RENDERED
            if RENDERER.render("id", name, **contexts("id", name)[0])
            == RENDERER.render("en", name, **contexts("en", name)[0])]
    assert not same, f"not translated: {same}"

