"""`umkm-bot` (also `python -m bot`): run the service, chat in the terminal, manage officers, migrate.

Settings come from the environment and `.env` (see DESIGN.md section 7). Mistakes in arguments exit with 2.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from sqlalchemy.engine import make_url

from bot.domain import regions, validators
from bot.review import officers as admin
from bot.settings import Settings
from storage.db import Database
from storage.models import OfficerRole

T = TypeVar("T")

app = typer.Typer(help="UMKM Katalog Lokal onboarding bot.", no_args_is_help=True, add_completion=False)
officer_app = typer.Typer(help="Dinas officers who review submissions.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
media_app = typer.Typer(help="Stored photos.", no_args_is_help=True)
outbox_app = typer.Typer(help="Messages to people: those given up after 48 hours of retries.", no_args_is_help=True)
app.add_typer(officer_app, name="officer")
app.add_typer(db_app, name="db")
app.add_typer(media_app, name="media")
app.add_typer(outbox_app, name="outbox")

TELEGRAM_CHAT_ID = re.compile(r"-?[1-9][0-9]{0,19}")
USAGE_ERROR = 2


def _print_version(given: bool) -> None:
    if given:
        from bot import version

        typer.echo(f"umkm-bot {version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """UMKM Katalog Lokal onboarding bot."""


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


@contextmanager
def _logging(level: int | None, settings: Settings, report_errors: bool = False) -> Iterator[None]:
    """One setup for every command (bot/ops/logs.py): LOG_FORMAT, LOG_LEVEL, secrets and personal data masked; put
    back when the command ends, so a command run in-process (CliRunner, a script) leaves no handler behind.
    `report_errors` (run, worker): errors go to Sentry too when SENTRY_DSN is set (bot/ops/errors.py)."""
    from bot.ops import errors, logs

    restore = logs.setup(settings, level)
    close = errors.setup(settings) if report_errors else None
    try:
        yield
    finally:
        if close is not None:
            close()
        restore()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def _with_db(settings: Settings, work: Any) -> Any:  # work: async (Database) -> T
    """Migrates the database, runs `work(db)`, and closes the database."""
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
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
    from bot.service.prefork import serve_workers
    from bot.service.web import run_event_loop, serve

    settings = Settings()
    with _logging(None, settings, report_errors=True):
        if port is None:
            port = _port_from_env()
        if workers > 1:
            serve_workers(settings, host, port, workers)
        else:
            run_event_loop(serve(settings, host, port))


@app.command()
def worker(
    name: Annotated[str | None, typer.Option(help="This worker's name, unique per host (default: HOST:worker); "
                                                  "restarted under it, it takes back what it was sending.")] = None,
) -> None:
    """Deliver waiting messages only (no web server), until SIGINT/SIGTERM; run beside `run` to scale out."""
    from bot.service.web import run_event_loop, work

    settings = Settings()
    with _logging(None, settings, report_errors=True):
        run_event_loop(work(settings, name))


def _port_from_env() -> int:
    value = os.environ.get("PORT", "").strip()
    if not value:
        return 8080
    if not re.fullmatch(r"[0-9]{1,5}", value, re.ASCII) or not 0 < int(value) < 65536:
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
    settings = Settings()
    with _logging(logging.WARNING, settings):
        try:
            _run(terminal_chat(settings, address))
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
    admin_role: Annotated[bool, typer.Option("--admin", help="The Dinas's admin for the region: the admin pages "
                                                           "(/dinas/admin/), inviting officers there.")] = False,
) -> None:
    """Register a Dinas officer (or, with --admin, an admin) for a region, reachable on exactly one chat."""
    channel, address = _officer_chat(telegram, whatsapp, terminal)
    if not name.strip():
        _fail("--name must not be empty.")
    try:
        found = admin.resolve_region(region)
        role = OfficerRole.admin if admin_role else OfficerRole.officer
        row = _run(_with_db(Settings(), lambda db: admin.add_officer(db, name, found.code, channel, address,
                                                                     role=role)))
    except admin.AdminError as exc:
        _fail(str(exc))
    typer.echo(f"{'Admin' if admin_role else 'Officer'} #{row.officer.id} {row.officer.name} added for "
               f"{found.label} ({found.code}), "
               f"notified at {channel}:{address}.")
    if row.backlog:
        typer.echo(f"Sent them {row.backlog} submission(s) that waited for an officer of this region.")


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


@officer_app.command("link")
def officer_link(officer_id: Annotated[int, typer.Argument(metavar="ID", help="Officer id (officer list).")]) -> None:
    """Print a one-time sign-in link to the Dinas console for an officer (valid 15 minutes, once)."""
    from bot.review.signin import issue_link
    from storage.models import Officer, utcnow

    settings = Settings()
    if not settings.public_url:
        settings = settings.model_copy(update={"web_port": _port_from_env()})

    async def link(db: Database) -> str | None:
        async with db.transaction() as session:
            officer = await session.get(Officer, officer_id)
            if officer is None or not officer.active:
                return None
            return await issue_link(session, settings, officer_id, utcnow())

    url = _run(_with_db(settings, link))
    if url is None:
        _fail(f"No active officer #{officer_id} (see: umkm-bot officer list).")
    typer.echo(url)


# --- outbox -------------------------------------------------------------------------------------------

@outbox_app.command("failed")
def outbox_failed() -> None:
    """Messages given up (after 48 hours of retries, or refused for good), newest first."""
    from bot.delivery import outbox_admin

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
    from bot.delivery import outbox_admin

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


# --- media --------------------------------------------------------------------------------------------

@media_app.command("migrate")
def media_migrate(
    to: Annotated[str, typer.Option("--to", help="Target store: s3://bucket/prefix (or a folder).")],
) -> None:
    """Copy every stored photo from the current store (MEDIA_URL, else MEDIA_DIR) to another; safe to repeat.

    Then set MEDIA_URL to the target and restart: photo keys stay the same, so no database change is needed.
    """
    from bot.media import photos as media

    try:
        report = _run(media.migrate(Settings(), to))
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(f"Photos from {report.source} to {report.target}: {report.copied} copied, "
               f"{report.already_there} already there.")
    typer.echo(f"Now set MEDIA_URL={report.target} and restart the processes.")


# --- status -------------------------------------------------------------------------------------------

@app.command()
def status() -> None:
    """Readiness, channels (configured, paused), outbox queues, submissions waiting per region, last errors."""
    from bot.service.status import status_lines

    settings = Settings()
    lines, ready = _run(status_lines(settings))
    for line in lines:
        typer.echo(line)
    if not ready:
        raise typer.Exit(1)


PG_BACKUP = """\
This database is PostgreSQL: back it up with PostgreSQL's own tools, e.g.
  pg_dump --format=custom --file=umkm.dump "$DATABASE_URL"
  (restore: pg_restore --clean --if-exists -d "$DATABASE_URL" umkm.dump)
or your provider's snapshots. Back up the photos too (MEDIA_URL bucket or MEDIA_DIR folder) and keep the .env
secrets somewhere safe: see README, "Backup and restore"."""


def _sqlite_paths(settings: Settings) -> tuple[Any, Any, str]:
    """(database file, local media folder or None, where the media live otherwise) for a SQLite deployment."""
    from pathlib import Path

    url = make_url(Database(settings.database_url).url)
    if url.get_backend_name() != "sqlite":
        typer.echo(PG_BACKUP, err=True)
        raise typer.Exit(USAGE_ERROR)
    if not url.database or url.database == ":memory:":
        _fail("DATABASE_URL names no database file.")
    media_url = settings.media_url or ""
    if media_url.startswith("s3://"):
        return Path(url.database), None, media_url
    return Path(url.database), Path(media_url.removeprefix("file://") or settings.media_dir), ""


@db_app.command("backup")
def db_backup(file: Annotated[str, typer.Argument(help="The backup to write (.tar.gz).")]) -> None:
    """Copy the SQLite database (safe while the bot runs) and the local photos into one FILE."""
    from pathlib import Path

    from bot.ops.backup import BackupError, backup

    db_path, media_dir, elsewhere = _sqlite_paths(Settings())
    try:
        report = backup(db_path, media_dir, Path(file), elsewhere)
    except BackupError as exc:
        _fail(str(exc))
    typer.echo(f"Backup written to {report.archive}: the database and {report.photos} photos"
               + ("." if report.media == "included" else f" ({report.media})."))


@db_app.command("restore")
def db_restore(
    file: Annotated[str, typer.Argument(help="A backup written by `db backup`.")],
    force: Annotated[bool, typer.Option(help="Replace the existing database (stop the bot first).")] = False,
) -> None:
    """Put a backup's database and photos back (with the bot stopped); then start the bot as usual."""
    from pathlib import Path

    from bot.ops.backup import BackupError, restore

    db_path, media_dir, _ = _sqlite_paths(Settings())
    try:
        report = restore(Path(file), db_path, media_dir, force=force)
    except BackupError as exc:
        _fail(str(exc))
    typer.echo(f"Restored the database to {db_path} and {report.photos} photos"
               + (f" to {media_dir}." if media_dir else "."))
# --- regions, export ----------------------------------------------------------------------------------

region_app = typer.Typer(help="Kabupaten/kota targets.", no_args_is_help=True)
app.add_typer(region_app, name="region")


def _kabkota(code_or_name: str) -> regions.Region:
    """A kab/kota by code or name (as `officer add --region`), or exit 2 saying why."""
    try:
        found = admin.resolve_region(code_or_name)
    except admin.AdminError as exc:
        _fail(str(exc))
    if "." not in found.code:
        _fail(f"{found.label} ({found.code}) is a province; give one of its kabupaten/kota (targets are per "
              f"kab/kota, e.g. {found.code}.01).")
    return found


@region_app.command("target")
def region_target(
    region: Annotated[str, typer.Argument(metavar="CODE", help="Kab/kota by Kemendagri code (18.03) or name.")],
    target: Annotated[int | None, typer.Argument(metavar="N", help="Approved products to reach (omit: show).")]
    = None,
) -> None:
    """Set (or show) a kabupaten/kota's target of approved products for the progress page (default 1,000)."""
    from bot.dinas import targets

    found = _kabkota(region)
    settings = Settings()
    if target is None:
        current = _run(_with_db(settings, lambda db: targets.targets_of(db, [found.code])))[found.code]
        typer.echo(f"Target of {found.label} ({found.code}): {current:,} approved products.")
        return
    if not 0 < target <= targets.MAX_TARGET:
        _fail(f"N must be between 1 and {targets.MAX_TARGET:,}, not {target}.")
    _run(_with_db(settings, lambda db: targets.set_target(db, found.code, target)))
    typer.echo(f"Target of {found.label} ({found.code}) set to {target:,} approved products.")


@app.command("export")
def export(
    region: Annotated[str, typer.Option(help="Kab/kota or province, by code (18.03) or name.")],
    format: Annotated[str, typer.Option("--format", help="xlsx or csv.")],
    out: Annotated[Path, typer.Option(help="File to write.")],
    since: Annotated[str | None, typer.Option(help="Only products approved on or after this date (YYYY-MM-DD).")]
    = None,
    only_new: Annotated[bool, typer.Option("--only-new", help="Only products no export held yet.")] = False,
    photos: Annotated[Path | None, typer.Option("--photos", metavar="FILE.zip",
                                                help="Also write the same products' photos as a ZIP, named "
                                                     "as in the sheet's File foto (ZIP) column.")] = None,
) -> None:
    """Write the region's INAPROC worksheet (approved, uploaded and live products: the upload form's entries in
    its order, contact, status, dates; Indonesian headers), and mark them exported."""
    from bot.dinas import catalogue
    from bot.dinas.export import FORMATS, export_to_file

    fmt = format.strip().lower()
    if fmt not in FORMATS:
        _fail(f"--format must be xlsx or csv, not {format!r}.")
    try:
        found = admin.resolve_region(region)
        scope = catalogue.Scope(found.code, since=catalogue.parse_since(since), only_new=only_new)
    except (admin.AdminError, catalogue.ExportError) as exc:
        _fail(str(exc))
    if not out.parent.is_dir():
        _fail(f"the folder of --out does not exist: {out.parent}")
    if photos is not None:
        if not photos.parent.is_dir():
            _fail(f"the folder of --photos does not exist: {photos.parent}")
        if photos.is_dir():
            _fail(f"--photos must be a file name, not the folder {photos}")
        if photos.resolve() == out.resolve():
            _fail("--photos and --out must be different files.")
    settings = Settings()
    rows = _run(_with_db(settings, lambda db: export_to_file(db, scope, fmt, out, photos=photos,
                                                             settings=settings)))
    what = "new approved products" if only_new else "approved products"
    typer.echo(f"Exported {rows:,} {what} of {found.label} ({found.code}) to {out}"
               + (f", their photos to {photos}." if photos is not None else "."))


# --- invitations for owners (posters, events) ---------------------------------------------------------

@app.command("invite")
def invite(
    region: Annotated[str, typer.Option(help="Kab/kota by Kemendagri code (18.03) or name.")],
    source: Annotated[str | None, typer.Option(help="Where owners will see it: an event, a market (default: poster).")]
    = None,
    out: Annotated[Path | None, typer.Option(metavar="FILE.svg|.png|.pdf",
                                             help="Write the QR code (.svg/.png) or the A4 poster (.pdf).")] = None,
    channel: Annotated[str | None, typer.Option(help="The QR code's link: telegram or whatsapp.")] = None,
) -> None:
    """Print the invitation links of a kab/kota for a poster or an event (one per source, for many owners):
    owners who come by them have their region preselected and the source recorded."""
    from bot.dinas import invite_files
    from bot.review import reach
    from bot.words.i18n import Renderer
    from storage.models import utcnow

    try:
        found = reach.kabkota(admin.resolve_region(region).code)
    except (admin.AdminError, reach.Refused):
        _fail(f"--region must be one kabupaten/kota (18.03, Lampung Utara), not {region!r}.")
    if channel not in (None, "telegram", "whatsapp"):
        _fail(f"--channel must be telegram or whatsapp, not {channel!r}.")
    if out is not None and (out.suffix.lower() not in invite_files.SUFFIXES or not out.parent.is_dir()):
        _fail(f"--out must be a .svg, .png or .pdf file in an existing folder, not {out}.")
    try:
        name = reach.clean_source(source)
    except reach.Refused:
        _fail(f"--source is at most {reach.SOURCE_MAX} printable characters.")
    settings = Settings()

    async def make(db: Database) -> Any:
        async with db.transaction() as session:
            return await reach.make(session, found.code, name, utcnow())

    made = _run(_with_db(settings, make))
    links = reach.links(settings, Renderer(settings.templates_dir), made)
    typer.echo(f"Invitation {made.source!r} of {found.label} ({found.code}): code {made.code}")
    typer.echo(f"Telegram: {links.telegram or 'set TELEGRAM_BOT_USERNAME to make this link'}")
    typer.echo(f"WhatsApp: {links.whatsapp or 'set WHATSAPP_DISPLAY_NUMBER to make this link'}")
    if out is not None:
        try:
            what = invite_files.write(settings, made, out, channel)
        except invite_files.OutError as exc:
            _fail(str(exc))
        typer.echo(f"Wrote {what} to {out}")


# --- catalogue ----------------------------------------------------------------------------------------

catalogue_app = typer.Typer(help="The INAPROC (Katalog v6) side of our categories.", no_args_is_help=True)
app.add_typer(catalogue_app, name="catalogue")
DATA_ERROR = 1


@catalogue_app.command("categories")
def catalogue_categories(
    import_file: Annotated[Path | None, typer.Option(
        "--import", metavar="FILE", help="A CSV with the columns of bot/data/catalogue_categories.csv: checked "
                                         "row by row, then used instead of the shipped map.")] = None,
) -> None:
    """Print the map of our categories to INAPROC's (with --import FILE: replace it, when every row is right)."""
    from bot.flows import catalogue_map

    settings = Settings()
    if import_file is None:
        path = catalogue_map.current_path(settings)
        try:
            mapping = catalogue_map.load(path)
        except catalogue_map.CatalogueFileError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(DATA_ERROR) from exc
        shipped = "shipped" if path == catalogue_map.DEFAULT_PATH else "imported"
        typer.echo(f"Categories from {path} ({shipped}):")
        for row in mapping:
            kbki = f"  KBKI {row.kbki_code} {row.kbki_title}".rstrip() if row.kbki_code else ""
            typer.echo(f"  {row.our_category}: {row.catalogue_path}{kbki}{'' if row.verified else '  (unverified)'}")
        return
    try:
        text = import_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {import_file} as UTF-8 text: {exc}")
    mapping, errors = catalogue_map.parse_import(text)
    if mapping is None:
        for error in errors:
            typer.echo(f"Error: {error.message}", err=True)
        typer.echo(f"{import_file}: {len(errors)} problem(s); nothing was changed.", err=True)
        raise typer.Exit(DATA_ERROR)
    target = settings.catalogue_categories_file
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(text.removeprefix("\ufeff"), encoding="utf-8")
    os.replace(partial, target)  # whole or not at all: a reader never sees half a file
    typer.echo(f"Imported {len(mapping)} categories to {target} ({len(mapping.unverified())} unverified). "
               "Restart the bot (run, worker) so it reads them.")


# --- siaran (broadcasts to owners) ----------------------------------------------------------------------

@app.command("broadcast")
def broadcast(
    region: Annotated[str, typer.Option(help="Kab/kota or province, by code (18.03) or name.")],
    status: Annotated[str, typer.Option(help="Owners with a product in: all, draft, revision, approved "
                                             "(approved or uploaded), listed.")],
    text_file: Annotated[Path, typer.Option("--text-file", metavar="F", help="The message, UTF-8 text.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count who would receive it, per channel.")]
    = False,
) -> None:
    """Send a siaran to the region's owners (each once, on the chat they used last; after 21:00 it waits for
    07:00 in their time zone), or with --dry-run count them per channel and the skipped with the reason."""
    from bot.review import siaran
    from bot.words.i18n import Renderer
    from storage.models import utcnow

    try:
        found = admin.resolve_region(region)
    except admin.AdminError as exc:
        _fail(str(exc))
    if status not in siaran.STATUSES:
        _fail(f"--status must be one of {', '.join(siaran.STATUSES)}, not {status!r}.")
    try:
        text = text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {text_file} as UTF-8 text: {exc}")
    settings = Settings()
    renderer = Renderer(settings.templates_dir)

    async def work(db: Database) -> tuple[siaran.Preview, int | None]:
        now = utcnow()
        async with db.transaction() as session:
            counted = await siaran.preview(session, siaran.Rule(found.code, status), settings, now)
            siaran.check_text(text, renderer, counted, settings)
            if dry_run:
                return counted, None
            sent = await siaran.send(session, renderer, settings, siaran.Ask(None, found.code, status, text), now)
            return counted, sent.id

    try:
        counted, siaran_id = _run(_with_db(settings, work))
    except siaran.Refused as refused:
        _fail(_refusal(refused))
    routes = ", ".join(f"{name} {counted.routes[name]}" for name in siaran.ROUTES if counted.routes[name])
    skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(counted.skipped.items()))
    typer.echo(f"{found.label} ({found.code}), owners with status {status}: {counted.total} recipient(s)"
               f"{': ' + routes if routes else ''}; skipped {sum(counted.skipped.values())}"
               f"{': ' + skipped if skipped else ''}.")
    if counted.morning:
        typer.echo(f"{counted.morning} of them are in quiet hours now (21:00-07:00): theirs wait for 07:00.")
    if siaran_id is None:
        typer.echo("Dry run: nothing was sent.")
    else:
        typer.echo(f"Siaran {siaran_id} queued; the running bot (run or worker) sends it.")


def _refusal(refused: Exception) -> str:
    reason, detail = getattr(refused, "reason", ""), getattr(refused, "detail", {})
    return {
        "empty": "the text file is empty.",
        "control": "the text holds control characters; save it as plain text.",
        "too_long": f"the text is {detail.get('length')} characters; Telegram takes at most {detail.get('limit')}.",
        "too_long_whatsapp": f"the text is {detail.get('length')} characters; the WhatsApp template takes at most "
                             f"{detail.get('limit')} (or unset WHATSAPP_TEMPLATE_BROADCAST).",
        "region": "that region is unknown.",
        "status": "unknown --status.",
    }.get(reason, str(refused))
