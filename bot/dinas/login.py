"""Sign-in by one-time link (GET shows a button, POST uses the link up) and logout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.dinas import auth
from bot.dinas.console import console_of, redirect
from bot.review import signin

if TYPE_CHECKING:
    from bot.dinas.console import Console


async def _refused(request: Request, session: AsyncSession, refused: signin.LinkRefused) -> Response:
    """A refused link says why (403), except a used one opened again by an officer still signed in: that is
    someone tapping the chat's link twice, so they land in the console."""
    if refused.reason == "used":
        try:
            await auth.current_officer(request, session)
        except auth.NotSignedIn:
            pass
        else:
            return redirect("/dinas/")
    return console_of(request).pages.message(request, f"link_{refused.reason}", status=403)


async def login_page(request: Request) -> Response:
    """Shows who the link signs in, with a button; opening it (or a chat app's link preview) uses nothing up."""
    console = console_of(request)
    token = request.path_params["token"]
    async with console.db.transaction() as session:
        try:
            officer = await signin.check_link(session, console.settings, token)
        except signin.LinkRefused as refused:
            return await _refused(request, session, refused)
    return console.pages.render(request, "login", console.pages.guess_locale(request), login_officer=officer,
                                token=token)


async def login(request: Request) -> Response:
    """Uses the link up and starts the session; a used, expired or forged link changes nothing."""
    console = console_of(request)
    if await auth.check_csrf(request) is None:
        return console.pages.message(request, "csrf", status=403)
    async with console.db.transaction() as session:
        try:
            token_id, _ = await signin.use_link(session, console.settings, request.path_params["token"],
                                              console.clock())
        except signin.LinkRefused as refused:
            return await _refused(request, session, refused)
    lang = request.session.get("lang")
    auth.start_session(request, token_id)
    if lang:
        request.session["lang"] = lang
    return redirect("/dinas/")


@auth.officer_page
async def logout(visit: auth.Visit) -> Response:
    """Ends the session in the database too, so a copied cookie stops working."""
    await auth.end_session(visit.request, visit.session, visit.console.clock())
    return visit.console.pages.message(visit.request, "logged_out", visit.locale)


def routes(console: Console) -> list[BaseRoute]:
    return [
        Route("/login/{token}", login_page, methods=["GET"], name="login_page"),
        Route("/login/{token}", login, methods=["POST"], name="login"),
        Route("/logout", logout, methods=["POST"], name="logout"),
    ]
