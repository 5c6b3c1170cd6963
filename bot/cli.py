"""`umkm-bot` (also `python -m bot`): run the service, chat in the terminal, manage officers, migrate.

Settings come from the environment and `.env` (see DESIGN.md section 7). Mistakes in arguments exit with 2.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections.abc import Coroutine
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from sqlalchemy.engine import make_url

from bot import admin, regions, validators
from bot.settings import Settings
from storage.db import Database

T = TypeVar("T")

app = typer.Typer(help="UMKM Katalog Lokal onboarding bot.", no_args_is_help=True, add_completion=False)
officer_app = typer.Typer(help="Dinas officers who review submissions.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
outbox_app = typer.Typer(help="Messages to people: those given up after 48 hours of retries.", no_args_is_help=True)
app.add_typer(officer_app, name="officer")
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")

TELEGRAM_CHAT_ID = re.compile(r"-?[1-9][0-9]{0,19}")
USAGE_ERROR = 2


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


def _logging(level: int) -> None:
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def _with_db(settings: Settings, work: Any) -> Any:  # work: async (Database) -> T
    """Migrates the database, runs `work(db)`, and closes the database."""
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        return await work(db)
    finally:
        await db.dispose()


def _display_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# --- run, chat ----------------------------------------------------------------------------------------

@app.command()
def run(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: $PORT or 8080].")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Processes serving the port (one core each).")] = 1,
) -> None:
    """Migrate the database, serve the webhooks and /healthz, and deliver messages, until SIGINT/SIGTERM."""
    from bot.web import run_event_loop, serve, serve_workers

    _logging(logging.INFO)
    if port is None:
        port = _port_from_env()
    if workers > 1:
        serve_workers(Settings(), host, port, workers)
    else:
        run_event_loop(serve(Settings(), host, port))


@app.command()
def worker(
    name: Annotated[str | None, typer.Option(help="This worker's name, unique per host (default: HOST:worker); "
                                                  "restarted under it, it takes back what it was sending.")] = None,
) -> None:
    """Deliver waiting messages only (no web server), until SIGINT/SIGTERM; run beside `run` to scale out."""
    from bot.web import run_event_loop, work

    _logging(logging.INFO)
    run_event_loop(work(Settings(), name))


def _port_from_env() -> int:
    value = os.environ.get("PORT", "").strip()
    if not value:
        return 8080
    if not value.isdigit() or not 0 < int(value) < 65536:
        _fail(f"PORT must be a port number, not {value!r}.")
    return int(value)


@app.command()
def chat(
    as_: Annotated[str, typer.Option("--as", help="Who you are in this terminal chat (its address).")] = "me",
) -> None:
    """Chat with the bot in this terminal, on the same database (interactive, or one message per stdin line)."""
    from bot.handlers.terminal import chat as terminal_chat

    address = as_.strip()
    if not address or any(c.isspace() for c in address):
        _fail("--as needs an id without spaces, e.g. --as officer-1.")
    _logging(logging.WARNING)
    try:
        _run(terminal_chat(Settings(), address))
    except KeyboardInterrupt:
        typer.echo("")


# --- officers -----------------------------------------------------------------------------------------

@officer_app.command("add")
def officer_add(
    name: Annotated[str, typer.Option(help="The officer's name.")],
    region: Annotated[str, typer.Option(help="Kab/kota or province, by Kemendagri code (18.03) or name.")],
    telegram: Annotated[str | None, typer.Option(help="Telegram chat id (a number, may be negative).")] = None,
    whatsapp: Annotated[str | None, typer.Option(help="WhatsApp number, e.g. 0812 3456 7890.")] = None,
    terminal: Annotated[str | None, typer.Option(help="Terminal chat id, as in `umkm-bot chat --as ID`.")] = None,
) -> None:
    """Register a Dinas officer for a region, reachable on exactly one chat."""
    channel, address = _officer_chat(telegram, whatsapp, terminal)
    if not name.strip():
        _fail("--name must not be empty.")
    try:
        found = admin.resolve_region(region)
        row = _run(_with_db(Settings(), lambda db: admin.add_officer(db, name, found.code, channel, address)))
    except admin.AdminError as exc:
        _fail(str(exc))
    typer.echo(f"Officer #{row.officer.id} {row.officer.name} added for {found.label} ({found.code}), "
               f"notified at {channel}:{address}.")


def _officer_chat(telegram: str | None, whatsapp: str | None, terminal: str | None) -> tuple[str, str]:
    """(channel, address) from the one chat option given."""
    given = {k: v for k, v in (("telegram", telegram), ("whatsapp", whatsapp), ("terminal", terminal))
             if v is not None}
    if len(given) != 1:
        _fail("give exactly one of --telegram CHAT_ID, --whatsapp PHONE or --terminal ID"
              + (f" (got {', '.join('--' + k for k in given)})." if given else "."))
    [(channel, value)] = given.items()
    value = value.strip()
    if channel == "telegram":
        if not TELEGRAM_CHAT_ID.fullmatch(value):
            _fail(f"--telegram must be a numeric Telegram chat id (e.g. 123456789 or -1001234567890), "
                  f"not {value!r}.")
        return channel, value
    if channel == "whatsapp":
        try:
            return channel, validators.phone(value).removeprefix("+")
        except ValueError:
            _fail(f"--whatsapp must be an Indonesian mobile number (e.g. 0812 3456 7890), not {value!r}.")
    if not value or any(c.isspace() for c in value):
        _fail(f"--terminal must be an id without spaces (e.g. officer-1), not {value!r}.")
    return channel, value


@officer_app.command("list")
def officer_list() -> None:
    """Officers, then the submissions waiting with no officer for their region."""

    async def load(db: Database) -> tuple[list[admin.OfficerRow], list]:  # type: ignore[type-arg]
        return await admin.list_officers(db), await admin.unrouted_submissions(db)

    officers, unrouted = _run(_with_db(Settings(), load))
    if officers:
        rows = [("ID", "NAME", "REGION", "ACTIVE", "CHATS")]
        rows += [(str(r.officer.id), r.officer.name, f"{r.region} ({r.officer.region_code})",
                  "yes" if r.officer.active else "no", ", ".join(r.chats) or "-") for r in officers]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    else:
        typer.echo("No officers yet. Add one: umkm-bot officer add --name NAME --region CODE --telegram CHAT_ID")
    typer.echo("")
    if not unrouted:
        typer.echo("No submission is waiting without an officer.")
        return
    typer.echo(f"Submissions waiting with no officer for their region ({len(unrouted)}):")
    for product, business in unrouted:
        found = regions.get_region(business.region_code or "")
        where = f"{found.label} ({found.code})" if found else business.region_code or "no region"
        submitted = f", submitted {product.submitted_at:%Y-%m-%d %H:%M} UTC" if product.submitted_at else ""
        typer.echo(f"  product #{product.id} {product.nama_produk!r} by {business.nama_usaha}, {where}{submitted}")


@officer_app.command("remove")
def officer_remove(officer_id: Annotated[int, typer.Argument(metavar="ID", help="Officer id (officer list).")]) -> None:
    """Deactivate an officer (kept for the record of their reviews); they get no more notifications."""
    try:
        officer = _run(_with_db(Settings(), lambda db: admin.remove_officer(db, officer_id)))
    except admin.AdminError as exc:
        _fail(str(exc))
    typer.echo(f"Officer #{officer.id} {officer.name} deactivated.")


# --- outbox -------------------------------------------------------------------------------------------

@outbox_app.command("failed")
def outbox_failed() -> None:
    """Messages given up (after 48 hours of retries, or refused for good), newest first."""
    from bot import outbox_admin

    rows = _run(_with_db(Settings(), outbox_admin.failed))
    if not rows:
        typer.echo("No failed messages.")
        return
    for row in rows:
        text = " ".join(str(row.payload.get("text", "")).split())[:60]
        typer.echo(f"#{row.id} {row.channel}:{row.address} written {row.created_at:%Y-%m-%d %H:%M} UTC, "
                   f"{row.attempts} tries: {row.last_error or '-'}\n    {text!r}")
    typer.echo("\nQueue them again: umkm-bot outbox retry ID ... (or --all)")


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[list[int] | None, typer.Argument(metavar="[ID]...", help="Message ids (outbox failed).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every failed message.")] = False,
) -> None:
    """Queue failed messages again (they are sent by the running service, with a new 48-hour window)."""
    from bot import outbox_admin

    if bool(ids) == all_:
        _fail("give message ids (see `umkm-bot outbox failed`) or --all.")
    count = _run(_with_db(Settings(), lambda db: outbox_admin.retry(db, None if all_ else list(ids or []))))
    typer.echo(f"{count} message(s) queued again.")


# --- db -----------------------------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (run does this too)."""
    settings = Settings()

    async def noop(db: Database) -> None:
        return None

    _run(_with_db(settings, noop))
    typer.echo(f"Database {_display_url(settings.database_url)} is up to date.")
