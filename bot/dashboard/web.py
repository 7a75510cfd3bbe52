"""The dashboard's web side: the one-time link's landing page, the login and the pages."""

from __future__ import annotations

import asyncio
import datetime as dt
from html import escape
from typing import TYPE_CHECKING

from aiohttp import web

from bot.dashboard.figures import Cache, gather
from bot.dashboard.links import PATH, base_url
from bot.dashboard.page import message_page, render
from bot.summaries import SummaryOptions
from bot.summary_text import lang_of
from storage import dashboard as store

if TYPE_CHECKING:
    from bot.serve import Service

COOKIE = "beholde_styring"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link's token never leaves in a Referer
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; form-action 'self'; frame-ancestors 'none'",
}


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
