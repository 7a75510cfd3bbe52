"""The steering group's dashboard in `beholde serve`: read-only pages behind one-time links.

`/styring` in chat or `beholde dashboard link NAME` gives a person with role `steering` or
`leader` a link valid 15 minutes. Opening it shows one button (a chat's link preview fetches
the page but never presses it); pressing it spends the link and sets a session cookie
(HttpOnly, SameSite=Lax, 8 hours) for `/styring`. Everything else gets "no access".
"""

from __future__ import annotations

import asyncio
import datetime as dt
from html import escape
from typing import TYPE_CHECKING

from aiohttp import web

from bot.dashboard.figures import Cache, gather
from bot.dashboard.page import message_page, render
from bot.summaries import SummaryOptions
from bot.summary_text import lang_of
from storage import dashboard as store
from storage.db import Database

if TYPE_CHECKING:
    from bot.serve import Service
    from bot.settings import Settings

COOKIE = "beholde_styring"
PATH = "/styring"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link's token never leaves in a Referer
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; form-action 'self'; frame-ancestors 'none'",
}


def base_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.http_host}:{settings.http_port}").rstrip("/")


def link_for(db: Database, settings: Settings, name: str, now: dt.datetime) -> str | None:
    """A personal one-time link for NAME, or None when NAME may not see the dashboard."""
    with db.transaction() as session:
        person = store.find_person(session, name)
        token = store.issue_link(session, person, now) if person is not None else None
    return f"{base_url(settings)}{PATH}/inn?t={token}" if token else None


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", headers=HEADERS)


class Dashboard:
    """The request handlers, bound to one service."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.lang = lang_of(service.settings.language)
        self.cache = Cache()

    def _now(self) -> dt.datetime:
        return self.service.now()

    async def entry(self, request: web.Request) -> web.Response:
        token = request.query.get("t", "")
        form = (f'<form method="post" action="{PATH}/inn"><input type="hidden" name="t" '
                f'value="{escape(token)}"><button type="submit" data-testid="open">'
                f"{escape(self._text('open'))}</button></form>")  # fmt: skip
        return _html(message_page(self.lang, "entry_title", "entry_text", form))

    def _text(self, key: str) -> str:
        from bot.i18n import t

        return t(self.lang, f"dashboard_{key}")

    async def redeem(self, request: web.Request) -> web.Response:
        token = str((await request.post()).get("t", ""))
        db = self.service.engine.db

        def spend() -> str | None:
            with db.transaction() as session:
                return store.redeem_link(session, token, self._now())

        fresh = await asyncio.to_thread(spend) if token else None
        if fresh is None:
            return _html(message_page(self.lang, "refused_title", "refused_text"), 403)
        response = web.Response(status=303, headers={**HEADERS, "Location": PATH})
        secure = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
        response.set_cookie(COOKIE, fresh, max_age=int(store.SESSION_VALID.total_seconds()),
                            path=PATH, httponly=True, samesite="Lax", secure=secure)  # fmt: skip
        return response

    async def page(self, request: web.Request) -> web.Response:
        token = request.cookies.get(COOKIE)
        engine = self.service.engine
        settings = self.service.settings
        now = self._now()

        def build() -> str | None:
            with engine.db.transaction() as session:
                person = store.session_person(session, token, now)
                if person is None:
                    return None
                lang = lang_of(request.query.get("lang") or person.language)
                options = SummaryOptions(settings.k_anonymity, settings.comment_threshold, lang)
                data = gather(session, engine.survey, options, now, self.cache)
                return render(data, engine.survey, lang, person.name)

        html = await asyncio.to_thread(build)
        if html is None:
            return _html(message_page(self.lang, "no_access_title", "no_access_text"), 401)
        return _html(html)


def install(service: Service) -> bool:
    """Mount the dashboard's routes on the service's HTTP port (always: it needs no setup)."""
    from bot.dashboard.commands import configure

    settings = service.settings
    options = SummaryOptions(settings.k_anonymity, settings.comment_threshold, settings.language)
    configure(service.engine, base_url(settings), options)
    handlers = Dashboard(service)
    service.web.router.add_get(f"{PATH}/inn", handlers.entry)
    service.web.router.add_post(f"{PATH}/inn", handlers.redeem)
    service.web.router.add_get(PATH, handlers.page)
    return True
