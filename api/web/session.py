"""Who is looking at a page: the same bearer tokens and roles as the API, carried by a browser session.

A page request is authenticated by `Authorization: Bearer <jwt>` when the caller sends one (a portal in
front of the service, the tests), else by the session cookie that the login page sets from a pasted
token. The cookie holds that token, HttpOnly and SameSite=Lax, and lives no longer than the token, so a
page session ends exactly when the API would refuse the token; every request verifies it again with
`api.auth.principal_from_header`. Only relationship managers and operations staff may open the pages.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import jwt
from fastapi import Request, Response

from api.auth import Principal, Role, principal_from_header
from api.errors import ApiError

SESSION_COOKIE = "advisor_rm_session"
LANGUAGE_COOKIE = "advisor_lang"
PAGE_ROLES = (Role.RM, Role.OPS)


class LoginRequiredError(Exception):
    """No usable session: the page answers with a redirect to the login page."""

    def __init__(self, next_path: str, reason: str | None = None):
        super().__init__(reason or "login required")
        self.next_path = next_path
        self.reason = reason


class PageForbiddenError(Exception):
    """An authenticated caller whose role may not use the workspace."""


class PageNotFoundError(Exception):
    """A client who does not exist or is not assigned to the caller (the page does not say which)."""


def _token_header(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization")
    if header:
        return header, False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (f"Bearer {cookie}", True) if cookie else (None, False)


def page_principal(request: Request) -> Principal:
    """The caller of a page, or raise: login required (no / expired token) or forbidden (wrong role)."""
    header, from_cookie = _token_header(request)
    next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if header is None:
        raise LoginRequiredError(next_path)
    try:
        principal = principal_from_header(request.app.state.advisor.settings, header)
    except ApiError as err:
        if from_cookie:
            raise LoginRequiredError(next_path, err.code) from None
        raise
    if principal.role not in PAGE_ROLES:
        raise PageForbiddenError(str(principal.role))
    return principal


def start_session(request: Request, response: Response, raw_token: str) -> Principal:
    """Verify a pasted token (with or without the `Bearer ` prefix) and set the session cookie."""
    token = raw_token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    principal = principal_from_header(request.app.state.advisor.settings, f"Bearer {token}")
    if principal.role not in PAGE_ROLES:
        raise PageForbiddenError(str(principal.role))
    expires = int(jwt.decode(token, options={"verify_signature": False}).get("exp", 0))
    response.set_cookie(SESSION_COOKIE, token, max_age=max(1, expires - int(time.time())), httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/rm")
    return principal


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/rm")


def safe_next(path: str | None) -> str:
    """Only a local workspace path may be the target after login (no open redirect)."""
    if not path or not path.startswith("/rm") or path.startswith("//") or "\\" in path:
        return "/rm"
    return path


def login_url(next_path: str, reason: str | None = None) -> str:
    url = f"/rm/login?next={quote(safe_next(next_path), safe='')}"
    return url + (f"&reason={quote(reason)}" if reason else "")


def same_origin(request: Request) -> bool:
    """A form POST must come from this site's own pages (checked on Origin, else Referer, when sent)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1].split("/", 1)[0] == host
