"""`umkm-bot status`: what `/readyz` and `/metrics` tell, written for a person at a terminal."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import make_url

from bot.domain import regions
from bot.media.photos import media_store
from bot.ops import health
from bot.service.web import configured_channels
from bot.settings import Settings
from storage.db import Database


def _age(moment: datetime | None, now: datetime) -> str:
    """`2h 5m ago`, `40s ago`, or `-`."""
    if moment is None:
        return "-"
    seconds = max(int((now - moment).total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h ago"
    if hours:
        return f"{hours}h {minutes}m ago"
    return f"{minutes}m {secs}s ago" if minutes else f"{secs}s ago"


async def status_lines(settings: Settings, now: datetime | None = None) -> tuple[list[str], bool]:
    """The report's lines for DATABASE_URL, and whether the service is ready."""
    db = Database(settings.database_url)
    try:
        return await report(db, settings, now or datetime.now(UTC))
    finally:
        await db.dispose()


async def report(db: Database, settings: Settings, now: datetime) -> tuple[list[str], bool]:
    """The report's lines, and whether the service is ready."""
    channels = configured_channels(settings)
    ready = await health.readiness(db, channels, store=media_store(settings))
    lines = [f"Database: {make_url(db.url).render_as_string(hide_password=True)}",
             f"Media: {settings.media_url or settings.media_dir}",
             f"Ready: {'yes' if ready.ready else 'NO'}"]
    lines += [f"  - {reason}" for reason in ready.reasons]
    if ready.checks.get("database") != "ok" or ready.checks.get("migrations") != "ok":
        return lines, False
    figures = await health.snapshot(db)
    states = {s.channel: s for s in figures.channel_states}
    lines.append("Channels:")
    if not channels:
        lines.append("  none configured (see README: Telegram setup, WhatsApp setup)")
    for channel in sorted(set(channels) | set(figures.queues)):
        queue = figures.queues.get(channel, health.Queue())
        state = states.get(channel)
        where = "configured" if channel in channels else "not configured here"
        paused = f", PAUSED: {state.paused_reason}" if state and state.paused_reason else ""
        lines.append(f"  {channel}: {where}{paused}; waiting {queue.pending} "
                     f"(oldest {_age(queue.oldest_pending, now)}), held {queue.held}, failed {queue.failed}")
        if state and state.last_error:
            lines.append(f"    last error {_age(state.last_error_at, now)}: {state.last_error}")
        elif queue.last_error:
            lines.append(f"    last send error: {queue.last_error}")
    waiting = sum(figures.waiting_by_region.values())
    lines.append(f"Submissions waiting for review: {waiting}")
    for code, count in sorted(figures.waiting_by_region.items()):
        found = regions.get_region(code) if code else None
        lines.append(f"  {found.label + ' (' + code + ')' if found else code or 'no region'}: {count}")
    lines.append("Products: " + ", ".join(f"{status} {count}" for status, count in figures.products.items()))
    return lines, ready.ready
