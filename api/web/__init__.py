"""The relationship managers' workspace: server-rendered pages, charts and the printable report.

`install_pages(app)` adds the pages under `/rm`, their static files under `/rm/static` (served by the same
app; nothing is loaded from elsewhere) and the handlers that answer page errors as pages.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.web import session as web_session
from api.web.routes import HERE, page_language, render, router, templates
from api.web.views import FILTERS

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")


def install_pages(app: FastAPI) -> None:
    templates.env.filters.update(FILTERS)
    app.include_router(router)
    app.mount("/rm/static", StaticFiles(directory=str(HERE / "static")), name="rm-static")

    @app.exception_handler(web_session.LoginRequiredError)
    async def _login(_request: Request, exc: Exception) -> RedirectResponse:
        assert isinstance(exc, web_session.LoginRequiredError)
        response = RedirectResponse(web_session.login_url(exc.next_path, exc.reason), status_code=303)
        if exc.reason:
            web_session.end_session(response)
        return response

    @app.exception_handler(web_session.PageForbiddenError)
    async def _forbidden(request: Request, _exc: Exception) -> HTMLResponse:
        tr = page_language(request)
        return render(request, tr, "error.html", {"title": tr.t("forbidden_title"), "body": tr.t("forbidden_body")},
                      status=403)

    @app.exception_handler(web_session.PageNotFoundError)
    async def _not_found(request: Request, _exc: Exception) -> HTMLResponse:
        tr = page_language(request)
        return render(request, tr, "error.html", {"title": tr.t("not_found_title"), "body": tr.t("not_found_body")},
                      status=404)

    app.add_middleware(PageHeaders)


class PageHeaders:
    """Security and caching headers on the workspace's answers (pure ASGI: other routes pass untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/rm"):
            await self.app(scope, receive, send)
            return
        extra = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                 (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        if not path.startswith("/rm/static"):
            extra.append((b"cache-control", b"no-store"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)
