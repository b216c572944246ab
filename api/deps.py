"""FastAPI dependencies: the shared state, a request-scoped DB session, and the authenticated caller.

They are `async` because they do no I/O of their own (a session connects lazily, a JWT check is pure CPU):
FastAPI then runs them on the event loop instead of handing each to the thread pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth import Principal, principal_from_header
from api.state import AppState

bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, role (customer / rm / ops), exp")


async def get_state(request: Request) -> AppState:
    return request.app.state.advisor


async def get_session(request: Request) -> AsyncIterator[Session]:
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
    header = request.headers.get("authorization")
    return principal_from_header(request.app.state.advisor.settings, header if header else None)


State = Annotated[AppState, Depends(get_state)]
DbSession = Annotated[Session, Depends(get_session)]
Caller = Annotated[Principal, Depends(get_principal)]
