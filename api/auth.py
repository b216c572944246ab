"""Bearer-JWT authentication and the customer-access rule.

A token carries `sub` (who) and `role`: `customer` may reach only their own customer id, `rm` only the
customers assigned to them in the database (`rm_assignments`), `ops` everything. Tokens are verified
with the shared secret (HS*) or the public key (RS*/ES*/PS*/EdDSA) from settings; `exp`, `iat` and the
issuer are required.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.repositories import is_assigned
from api.settings import Settings

MAX_TOKEN_BYTES = 8192
SUBJECT_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"  # as customer ids: no control characters, spaces or quotes
SUBJECT_RE = re.compile(SUBJECT_PATTERN)


class Role(StrEnum):
    CUSTOMER = "customer"
    RM = "rm"
    OPS = "ops"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    role: Role
    sub: str


def unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message)


def forbidden(message: str, **details: Any) -> ApiError:
    return ApiError(403, "forbidden", message, details)


def mint_token(settings: Settings, role: Role | str, sub: str, ttl_minutes: int | None = None,
               extra: dict[str, Any] | None = None) -> str:
    """A signed token (development, tests and `advisor token`)."""
    now = int(time.time())
    ttl = settings.token_ttl_minutes if ttl_minutes is None else ttl_minutes
    if ttl > settings.jwt_max_lifetime_minutes:
        raise ValueError(f"a token lifetime of {ttl} minutes is above ADVISOR_JWT_MAX_LIFETIME_MINUTES "
                         f"({settings.jwt_max_lifetime_minutes}); the service would refuse it")
    claims = {"sub": sub, "role": str(Role(role)), "iat": now, "exp": now + ttl * 60,
              "iss": settings.jwt_issuer, **(extra or {})}
    return jwt.encode(claims, settings.signing_key, algorithm=settings.jwt_algorithm)


_VERIFIED: dict[tuple[str, str, str, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 10_000


def principal_from_header(settings: Settings, authorization: str | None) -> Principal:
    """Verify `Authorization: Bearer <jwt>` and return the caller, or raise 401.

    A token whose signature was verified once is remembered (bounded) with its expiry, which is checked
    on every use: an app session sends the same token many times."""
    key = (settings.verification_key, settings.jwt_algorithm, settings.jwt_issuer, authorization or "")
    cached = _VERIFIED.get(key)
    if cached is not None and cached[1] > time.time():
        return cached[0]
    principal, expires = _verify(settings, authorization)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (principal, expires)
    return principal


# PyJWT's own messages can quote decoder internals ("'utf-8' codec can't decode byte ..."): say it plainly.
_JWT_MESSAGES: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidSignatureError, "the bearer token's signature does not verify"),
    (jwt.InvalidIssuerError, "the bearer token was issued by another issuer"),
    (jwt.ImmatureSignatureError, "the bearer token is not valid yet"),
    (jwt.InvalidAlgorithmError, "the bearer token is signed with an algorithm this service does not accept"),
    (jwt.MissingRequiredClaimError, "the bearer token lacks a required claim (sub, iat, exp and iss are required)"),
    (jwt.InvalidIssuedAtError, "the bearer token's iat claim is not a valid time"),
    (jwt.DecodeError, "the bearer token is not a well-formed signed JWT"),
)
CLOCK_SKEW_SECONDS = 60


def _jwt_message(err: jwt.PyJWTError) -> str:
    for cls, message in _JWT_MESSAGES:
        if isinstance(err, cls):
            return message
    return "invalid bearer token"


def _verify(settings: Settings, authorization: str | None) -> tuple[Principal, float]:
    if not authorization:
        raise unauthorized("unauthorized", "missing bearer token (Authorization: Bearer <token>)")
    if len(authorization) > MAX_TOKEN_BYTES:
        raise unauthorized("invalid_token", "authorization header too long")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("unauthorized", "authorization must use the Bearer scheme")
    try:
        claims = jwt.decode(token.strip(), settings.verification_key, algorithms=[settings.jwt_algorithm],
                            issuer=settings.jwt_issuer,
                            options={"require": ["exp", "iat", "sub", "iss"], "verify_iat": False})
    except jwt.ExpiredSignatureError:
        raise unauthorized("token_expired", "the bearer token has expired") from None
    except jwt.PyJWTError as err:
        raise unauthorized("invalid_token", _jwt_message(err)) from None
    role_raw, sub = claims.get("role"), claims.get("sub")
    try:
        role = Role(role_raw)
    except ValueError:
        raise unauthorized("invalid_token", "unknown role in the bearer token; expected customer, rm or ops") from None
    if not isinstance(sub, str) or not SUBJECT_RE.fullmatch(sub):
        raise unauthorized("invalid_token", "the token subject must be 1–64 letters, digits, _ . or -")
    issued, expires = claims["iat"], float(claims["exp"])
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        raise unauthorized("invalid_token", "the bearer token's iat claim is not a valid time")
    if issued > time.time() + CLOCK_SKEW_SECONDS:  # an issuer's clock a little ahead of ours is tolerated
        raise unauthorized("invalid_token", "the bearer token was issued in the future")
    if expires - issued > settings.jwt_max_lifetime_minutes * 60:
        raise unauthorized("invalid_token", f"the bearer token lives longer than the maximum of "
                                            f"{settings.jwt_max_lifetime_minutes} minutes; request a shorter one")
    return Principal(role=role, sub=sub), expires


def may_access(session: Session | Connection, principal: Principal, customer_id: str) -> bool:
    """True when the caller may act on `customer_id` (see `check_customer_access`)."""
    if principal.role is Role.OPS:
        return True
    if principal.role is Role.CUSTOMER:
        return principal.sub == customer_id
    return is_assigned(session, principal.sub, customer_id)


def check_customer_access(session: Session | Connection, principal: Principal, customer_id: str) -> None:
    """Raise 403 unless the caller may act on `customer_id`."""
    if principal.role is Role.OPS:
        return
    if principal.role is Role.CUSTOMER:
        if principal.sub != customer_id:
            raise forbidden("a customer may access only their own records", customer_id=customer_id)
        return
    if not is_assigned(session, principal.sub, customer_id):
        raise forbidden("this customer is not assigned to the relationship manager", customer_id=customer_id)


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = ", ".join(str(r) for r in roles)
        raise forbidden(f"this operation requires role {allowed}", role=str(principal.role))


# --- compliance: who may act for a customer (docs/api.md § Compliance) ------------------------------------

class Capacity(StrEnum):
    """In what capacity an act binding the customer was performed (stored as `acting_capacity`)."""

    SELF = "self"  # the customer, through their own authenticated channel
    RM_IN_PERSON = "rm_in_person"  # an assigned RM, the customer present in a recorded in-person session
    IMPORTED = "imported"  # written by the bank's own systems (migration, demo seed), not through the API


@dataclass(frozen=True, slots=True)
class CustomerAct:
    """Who acts for the customer, and on what basis: recorded on the act's row."""

    capacity: Capacity
    assisted_session_id: str | None = None

    def columns(self) -> dict[str, str | None]:
        return {"acting_capacity": str(self.capacity), "assisted_session_id": self.assisted_session_id}


ASSISTED_SESSION_HEADER = "Assisted-Session-Id"


def act_for_customer(session: Session | Connection, principal: Principal, customer_id: str,
                     assisted_session_id: str | None, what: str) -> CustomerAct:
    """May `principal` perform `what` (answer the risk questionnaire, confirm orders, acknowledge a
    mismatch) for `customer_id`? The compliance rule:

    - the customer themselves, always (capacity `self`);
    - an RM currently assigned to the customer, only in a recorded in-person session (双录): the request
      carries the session's reference in `Assisted-Session-Id` (capacity `rm_in_person`) — the answers and
      the consent are the customer's, given in front of the RM;
    - operations staff never: they have no contact with the customer, and an act made in the customer's
      name without the customer is exactly what the suitability rules forbid (代客操作).
    Raises 403 otherwise; the returned `CustomerAct` is stored on the row (`columns()`).
    """
    if principal.role is Role.CUSTOMER:
        if principal.sub != customer_id:
            raise forbidden("a customer may access only their own records", customer_id=customer_id)
        return CustomerAct(Capacity.SELF)
    if principal.role is Role.OPS:
        raise ApiError(403, "not_permitted_on_behalf",
                       f"operations staff may not {what} on a customer's behalf; only the customer, or their "
                       "relationship manager in a recorded in-person session, may (运营人员不得代客操作)",
                       {"role": str(principal.role)})
    if not is_assigned(session, principal.sub, customer_id):
        raise forbidden("this customer is not assigned to the relationship manager", customer_id=customer_id)
    if not assisted_session_id:
        raise ApiError(403, "in_person_session_required",
                       f"a relationship manager may {what} for a customer only in a recorded in-person session: "
                       f"send its reference in the {ASSISTED_SESSION_HEADER} header (须在双录面签中办理)",
                       {"field": f"header.{ASSISTED_SESSION_HEADER}"})
    return CustomerAct(Capacity.RM_IN_PERSON, assisted_session_id)
