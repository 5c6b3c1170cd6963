"""`umkm-bot invite --out FILE`: the invitation's QR code as SVG or PNG (segno writes PNG itself), or its A4
poster as PDF, printed by Chromium (Playwright, a development dependency, with the system's chromium)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from bot.dinas.invite import poster_html
from bot.dinas.pages import Pages
from bot.review import reach
from bot.settings import Settings
from bot.words.i18n import Renderer
from storage.models import OwnerInvite

SUFFIXES = (".svg", ".png", ".pdf")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


class OutError(Exception):
    """Why the file could not be written (said to the person at the terminal)."""


def write_qr(url: str, out: Path) -> None:
    """The QR code of `url`: SVG, or a PNG of 10 px modules (about 450 px wide, sharp when printed small)."""
    if out.suffix.lower() == ".svg":
        reach.qr(url).save(str(out), kind="svg", scale=10, border=4)
    else:
        reach.qr(url).save(str(out), kind="png", scale=10, border=4)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        raise OutError("a PDF needs Chromium (apt install chromium); write .svg or .png instead")
    return found


async def print_pdf(html: str, out: Path) -> None:
    """The poster as an A4 PDF, as Chromium prints it (the page's @page rule decides size and margins)."""
    try:
        from playwright.async_api import async_playwright  # optional: only for --out FILE.pdf
    except ImportError as exc:
        raise OutError("a PDF needs Playwright (pip install playwright); write .svg or .png instead") from exc
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.set_content(html)
            await page.pdf(path=str(out), format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            await browser.close()


def write(settings: Settings, invite: OwnerInvite, out: Path, channel: str | None = None) -> str:
    """Writes `out` (.svg/.png: the QR of the channel's link; .pdf: the poster); returns what it holds."""
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        raise OutError(f"--out must end in .svg, .png or .pdf, not {out.name!r}")
    pages = Pages(settings.templates_dir, Renderer(settings.templates_dir))
    if suffix == ".pdf":
        asyncio.run(print_pdf(poster_html(settings, pages, invite), out))
        return "the A4 poster"
    links = reach.links(settings, pages.renderer, invite)
    chosen = channel or ("telegram" if links.telegram else "whatsapp")
    url = {"telegram": links.telegram, "whatsapp": links.whatsapp}.get(chosen)
    if url is None:
        raise OutError(f"no {chosen} link: set TELEGRAM_BOT_USERNAME or WHATSAPP_DISPLAY_NUMBER")
    write_qr(url, out)
    return f"the QR code of the {dict(telegram='Telegram', whatsapp='WhatsApp')[chosen]} link"
