"""The one place that turns errors into HTTP answers with the shape `{code, message, details}`.

Core exceptions (`products.errors`) map by class to a status; request validation errors become 422 with
the offending field named (`details.field` is the dotted location, e.g. `body.amount`); an unexpected
exception is logged and answered as a 500 in the same shape — the tests require that it never happens.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.serialization import jsonable
from products.errors import (
    AdvisorError,
    BadInputError,
    DataError,
    InfeasibleError,
    NotFoundError,
    StaleDataError,
    SuitabilityError,
)

log = logging.getLogger("api")

# Lock and busy timeouts (SQLite "database is locked", PostgreSQL lock_timeout / statement_timeout /
# deadlock / serialization failure), a lost connection and an exhausted pool: the request can be retried.
DATABASE_TRANSIENT: tuple[type[Exception], ...] = (sa_exc.OperationalError, sa_exc.TimeoutError)


class ErrorBody(BaseModel):
    """Every error answer: a machine code, a message a person can act on, and details."""

    code: str = Field(examples=["assessment_required"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ApiError(AdvisorError):
    """An error raised by the API layer itself, carrying its HTTP status."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message, code=code, details=details)
        self.status = status
        self.headers = headers


STATUS_OF: tuple[tuple[type[AdvisorError], int], ...] = (
    (NotFoundError, 404),
    (SuitabilityError, 403),
    (StaleDataError, 409),
    (InfeasibleError, 422),
    (BadInputError, 422),
    (DataError, 422),
)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
              408: "request_timeout", 415: "unsupported_media_type", 422: "validation_error", 429: "too_many_requests",
              503: "service_unavailable"}


def status_of(error: AdvisorError) -> int:
    if isinstance(error, ApiError):
        return error.status
    for cls, status in STATUS_OF:
        if isinstance(error, cls):
            return status
    return 422


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"code": code, "message": message, "details": jsonable(details or {})}
    return JSONResponse(status_code=status, content=body, headers=headers)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_details(errors: list[dict[str, Any]]) -> dict[str, Any]:
    fields = []
    for err in errors[:20]:
        loc = tuple(err.get("loc", ()))
        kind = str(err.get("type", ""))
        if kind == "json_invalid":  # loc is ("body", character position)
            field, message = "body", f"not valid JSON (at character {loc[1] if len(loc) > 1 else '?'})"
        else:  # pydantic prefixes our own validators' messages with "Value error, "
            field, message = _field_of(loc), str(err.get("msg", "")).removeprefix("Value error, ")
        fields.append({"field": field, "message": message, "type": kind})
    return {"field": fields[0]["field"] if fields else "", "errors": fields}


async def _advisor_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AdvisorError)
    headers = dict(getattr(exc, "headers", None) or {})
    if status_of(exc) == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(status_of(exc), exc.code, exc.message, exc.details, headers or None)


async def _database_busy(request: Request, exc: Exception) -> JSONResponse:
    """A locked, overloaded or unreachable database: 503 with Retry-After (the request may be retried as is;
    nothing was written). The driver's message stays in the log, never in the answer."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.__class__.__name__)
    retry = str(request.app.state.advisor.settings.retry_after_seconds)
    return error_response(503, "database_busy", f"the database is busy; retry in {retry} s (系统繁忙，请稍后重试)",
                          {"retry_after_seconds": int(retry)}, {"Retry-After": retry})


# Rules checked while parsing a request that its published schema cannot state (they depend on today's date):
# a request breaking only these is schema-valid, so it is answered with the rule's own code, not
# `validation_error` (which means "breaks the published schema"). Raise `PydanticCustomError(<code>, msg)`.
DOMAIN_RULES = frozenset({"date_in_future"})


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(list(exc.errors()))
    first = details["errors"][0] if details["errors"] else {"field": "request", "message": "invalid"}
    kinds = {e["type"] for e in details["errors"]}
    code = kinds.pop() if len(kinds) == 1 and kinds <= DOMAIN_RULES else "validation_error"
    return error_response(422, code, f"{first['field']}: {first['message']}", details)


def allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path (Starlette's own 405 names only the first
    route that matched the path, e.g. `PUT` for holdings although `GET` is served too)."""
    from starlette.routing import Match

    methods: set[str] = set()

    def walk(routes: list[Any], scope: dict[str, Any]) -> None:
        for route in routes:
            match, child = route.matches(scope)
            if match is Match.NONE:
                continue
            if getattr(route, "methods", None):
                methods.update(route.methods)
            elif hasattr(route, "original_router"):  # an included APIRouter (its routes carry full paths)
                walk(route.original_router.routes, scope)
            elif hasattr(route, "routes"):  # a mounted sub-application
                walk(route.routes, {**scope, **child})

    walk(request.app.router.routes, dict(request.scope))
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        return error_response(422, "validation_error", "body: not valid JSON", {"field": "body"})
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
    return error_response(exc.status_code, code, message, {}, headers or None)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AdvisorError, _advisor_error)
    for transient in DATABASE_TRANSIENT:
        app.add_exception_handler(transient, _database_busy)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error shape for the given statuses."""
    return {status: {"model": ErrorBody, "description": HTTP_CODES.get(status, "error")} for status in statuses}


def document_common_errors(app: FastAPI) -> None:
    """Add the answers any route can give to every published operation (call after including routers):
    401 on token-protected routes, 429 on writes (rate limit), 503 on every route (database busy)."""
    from fastapi.routing import APIRoute

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                extra = [503]
                if route.path.startswith("/v1"):
                    extra.append(401)
                    if set(route.methods or ()) - {"GET", "HEAD", "OPTIONS"}:
                        extra.append(429)
                for status in extra:
                    route.responses.setdefault(status, responses(status)[status])
            elif hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif hasattr(route, "routes"):
                walk(route.routes)

    walk(app.router.routes)
    app.openapi_schema = None
