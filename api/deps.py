"""FastAPI dependencies: the shared state, a request-scoped DB session, and the authenticated caller.

What every route gets by declaring them (`State`, `DbSession`, `Caller`):
- `Caller` verifies the bearer token (401 otherwise) and charges the caller's write rate limit on every
  POST / PUT / PATCH / DELETE (429 with Retry-After when exhausted; `api.ratelimit`).
- `DbSession` is a plain (synchronous) SQLAlchemy session, opened and closed in the thread pool. Routes
  that touch the database are plain `def` functions, which FastAPI runs in its thread pool: storage never
  blocks the event loop. An `async def` route must not use the database (or must hand it to the thread
  pool with `run_in_threadpool`). A busy database raises `OperationalError`, answered 503 + Retry-After.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth import ASSISTED_SESSION_HEADER, Principal, principal_from_header
from api.errors import ApiError
from api.ratelimit import SAFE_METHODS, retry_after
from api.schemas.common import ID_PATTERN
from api.state import AppState

bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, role (customer / rm / ops), iat, exp, iss")


async def get_state(request: Request) -> AppState:
    return request.app.state.advisor


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; synchronous so that opening, rollback and close run in the thread pool."""
    session = request.app.state.advisor.sessions()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def get_principal(request: Request,
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The verified caller; a write also takes one token from the caller's rate-limit bucket."""
    state: AppState = request.app.state.advisor
    header = request.headers.get("authorization")
    principal = principal_from_header(state.settings, header if header else None)
    if request.method not in SAFE_METHODS:
        wait = state.write_limits[str(principal.role)].take(f"{principal.role}:{principal.sub}")
        if wait > 0:
            seconds = retry_after(wait)
            raise ApiError(429, "rate_limited", f"too many changes in a short time; retry in {seconds} s "
                           "(操作过于频繁，请稍后再试)", {"retry_after_seconds": seconds},
                           headers={"Retry-After": str(seconds)})
    return principal


State = Annotated[AppState, Depends(get_state)]
DbSession = Annotated[Session, Depends(get_session)]
Caller = Annotated[Principal, Depends(get_principal)]
# An RM acting for a customer in a recorded in-person session names it (api.auth.act_for_customer)
AssistedSession = Annotated[str | None, Header(
    alias=ASSISTED_SESSION_HEADER, pattern=ID_PATTERN, max_length=64,
    description="relationship managers only: the reference of the recorded in-person session (双录) in which "
                "the customer answers or confirms")]
