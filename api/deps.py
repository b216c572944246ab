"""FastAPI dependencies: the shared state, a request-scoped DB session, and the authenticated caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth import Principal, principal_from_header
from api.state import AppState

bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, role (customer / rm / ops), exp")


def get_state(request: Request) -> AppState:
    return request.app.state.advisor


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.advisor.sessions()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_principal(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    header = request.headers.get("authorization")
    return principal_from_header(request.app.state.advisor.settings, header if header else None)


State = Annotated[AppState, Depends(get_state)]
DbSession = Annotated[Session, Depends(get_session)]
Caller = Annotated[Principal, Depends(get_principal)]
