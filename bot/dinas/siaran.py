"""`/dinas/siaran`: compose a siaran to the owners of the officer's region (an admin: any district of their area),
see how many receive it on which channel before sending, confirm, then follow its progress (the page refreshes
itself while messages wait) and cancel what has not gone out; the history as CSV. Every decision is in
bot/review/siaran.py: a forged region is refused there (403) and nothing is written.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dinas import sheets
from bot.dinas.auth import Visit, officer_page
from bot.dinas.console import Console, redirect
from bot.dinas.pages import Pages
from bot.domain.workdays import JAKARTA
from bot.review import siaran
from bot.review.admin import region_label
from bot.words.markup import to_plain
from storage.models import Siaran

TEXT_LIMIT = 5000  # read from the form; the service says the real limit per channel


@cache
def _words(pages: Pages, locale: str) -> dict[str, Any]:
    module = pages.env.get_template(f"siaran/{locale}.j2").module
    return {k: v for k, v in vars(module).items() if not k.startswith("_")}


def when(moment: datetime) -> str:
    return f"{moment.astimezone(JAKARTA):%Y-%m-%d %H:%M} WIB"


def _render(visit: Visit, name: str, status: int = 200, **ctx: Any) -> Response:
    return visit.page(f"siaran/{name}", status=status, s=_words(visit.console.pages, visit.locale),
                      region_label=region_label, when=when, **ctx)


def _form(visit: Visit, name: str, limit: int = 40) -> str:
    value = visit.form.get(name) if visit.form is not None else None
    return value.strip()[:limit] if isinstance(value, str) else ""


def _entered(visit: Visit) -> dict[str, str]:
    return {"region": _form(visit, "region"), "status": _form(visit, "status") or "all",
            "text": _form(visit, "text", TEXT_LIMIT)}


async def _compose(visit: Visit, status: int = 200, error: str = "", detail: dict[str, Any] | None = None,
                   entered: dict[str, str] | None = None) -> Response:
    past = await siaran.history(visit.session, visit.officer, limit=20)
    return _render(visit, "page", status=status, regions=siaran.regions_for(visit.officer),
                   statuses=list(siaran.STATUSES), error=error, detail=detail or {},
                   entered=entered or {"status": "all"}, past=past)


@officer_page
async def page(visit: Visit) -> Response:
    """The compose form and the latest siaran of the officer's region (an admin's area)."""
    return await _compose(visit)


@officer_page
async def check(visit: Visit) -> Response:
    """Counts who would receive it, per channel, and shows the message as sent; sends nothing."""
    entered = _entered(visit)
    now = visit.console.clock()
    try:
        rule = siaran.check_rule(visit.officer, entered["region"], entered["status"])
        counted = await siaran.preview(visit.session, rule, visit.console.settings, now)
        text = siaran.check_text(entered["text"], visit.console.renderer, counted, visit.console.settings)
    except siaran.Refused as refused:
        return await _compose(visit, 403 if refused.reason == "region" else 400, refused.reason, refused.detail,
                              entered)
    shown = to_plain(siaran.message(visit.console.renderer, visit.locale, rule.region_code, text))
    return _render(visit, "confirm", counted=counted, entered={**entered, "text": text}, message=shown,
                   key=secrets.token_urlsafe(16), routes=siaran.ROUTES)


@officer_page
async def send(visit: Visit) -> Response:
    """Sends the confirmed siaran (or goes back to the form to change it)."""
    entered = _entered(visit)
    if _form(visit, "action") == "edit":
        return await _compose(visit, entered=entered)
    ask = siaran.Ask(visit.officer, entered["region"], entered["status"], entered["text"],
                     _form(visit, "key") or None)
    try:
        sent = await siaran.send(visit.session, visit.console.renderer, visit.console.settings, ask,
                                 visit.console.clock())
    except siaran.Refused as refused:
        return await _compose(visit, 403 if refused.reason == "region" else 400, refused.reason, refused.detail,
                              entered)
    return redirect(f"/dinas/siaran/{sent.id}?done=sent")


async def _visible(visit: Visit) -> tuple[Siaran, siaran.Results] | None:
    raw = visit.request.path_params.get("siaran_id", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        return None
    found = [(s, r) for s, r in await siaran.history(visit.session, visit.officer, limit=1, only=int(raw))]
    return found[0] if found else None


@officer_page
async def detail(visit: Visit) -> Response:
    """One siaran: its rule, text and progress (refreshing itself while messages wait)."""
    found = await _visible(visit)
    if found is None:
        return _render(visit, "missing", status=404)
    record, result = found
    return _render(visit, "detail", record=record, result=result, done=visit.request.query_params.get("done", ""))


@officer_page
async def cancel(visit: Visit) -> Response:
    """Stops the siaran's messages that have not gone out yet."""
    found = await _visible(visit)
    if found is None:
        return _render(visit, "missing", status=404)
    await siaran.cancel(visit.session, visit.officer, found[0].id or 0, visit.console.clock())
    return redirect(f"/dinas/siaran/{found[0].id}?done=cancelled")


class _Line:
    def __init__(self, record: Siaran, result: siaran.Results) -> None:
        skipped = "; ".join(f"{k} {v}" for k, v in sorted((record.skipped or {}).items()))
        self.values = (record.id, f"{record.created_at.astimezone(JAKARTA):%Y-%m-%d %H:%M}", record.sent_by,
                       record.region_code, record.status_filter, record.recipients, result.sent, result.waiting,
                       result.failed, result.cancelled, result.skipped, skipped, record.text)


@officer_page
async def history_csv(visit: Visit) -> Response:
    """Every siaran the officer may see, newest first, with its results."""
    rows = [_Line(s, r) for s, r in await siaran.history(visit.session, visit.officer, limit=10_000)]
    headers = _words(visit.console.pages, visit.locale)["csv_headers"]
    name = sheets.file_name("siaran", visit.officer.region_code, visit.console.clock(), "csv")
    return sheets.csv_download(rows, headers, name)


def routes(console: Console) -> list[BaseRoute]:
    return [Route("/siaran", page, methods=["GET"], name="siaran"),
            Route("/siaran.csv", history_csv, methods=["GET"], name="siaran_csv"),
            Route("/siaran/preview", check, methods=["POST"], name="siaran_preview"),
            Route("/siaran/send", send, methods=["POST"], name="siaran_send"),
            Route("/siaran/{siaran_id}", detail, methods=["GET"], name="siaran_detail"),
            Route("/siaran/{siaran_id}/cancel", cancel, methods=["POST"], name="siaran_cancel")]
