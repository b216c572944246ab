"""Service settings from `ADVISOR_*` environment variables (pydantic-settings).

Secrets: `ADVISOR_JWT_SECRET` (HS256, at least 32 bytes) or `ADVISOR_JWT_PUBLIC_KEY` (PEM, with an
asymmetric `ADVISOR_JWT_ALGORITHM` such as RS256 / ES256). The built-in development secret is public (it
is in this file): it is accepted only in an explicit demo (`ADVISOR_DEMO=true`) bound to this machine
(`ADVISOR_HOST` a loopback address). Anything else with the development secret, or with a shorter HMAC
secret, refuses to start and says why. Limits and timeouts are settings too; `docs/api.md` § Security
lists them with their defaults.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "advisor-dev-secret-change-me-0123456789abcdef"
MIN_HMAC_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash output
ASYMMETRIC_PREFIXES = ("RS", "ES", "PS", "Ed")
DAY_MINUTES = 24 * 60


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Everything the service needs to start; read once, immutable afterwards."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", frozen=True, extra="ignore")

    database_url: str = Field("sqlite:///./advisor.db", description="SQLAlchemy URL (SQLite or PostgreSQL)")
    data_dir: Path | None = Field(None, description="universe directory; none = embedded demo universe")
    demo: bool = Field(False, description="explicit local demo: development JWT secret allowed, demo data seeded; "
                                          "loopback host only")
    host: str = Field("127.0.0.1", description="interface the server binds (advisor serve / python -m api.server)")
    port: int = Field(8000, ge=1, le=65535)
    jwt_secret: str | None = Field(None, description="HMAC secret for HS* algorithms (at least 32 bytes)")
    jwt_private_key: str | None = Field(None, description="PEM private key (only to mint tokens)")
    jwt_public_key: str | None = Field(None, description="PEM public key for RS*/ES*/PS*/EdDSA")
    jwt_algorithm: str = Field("HS256")
    jwt_issuer: str = Field("robo-advisor")
    jwt_max_lifetime_minutes: int = Field(DAY_MINUTES, ge=1, le=7 * DAY_MINUTES,
                                          description="tokens whose exp − iat is longer are refused")
    token_ttl_minutes: int = Field(60, ge=1, le=7 * DAY_MINUTES)
    proposal_ttl_minutes: int = Field(30, ge=1, le=7 * DAY_MINUTES)
    rebalance_plan_ttl_minutes: int = Field(30, ge=1, le=7 * DAY_MINUTES,
                                            description="minutes a rebalancing plan may be confirmed")
    max_body_bytes: int = Field(1_000_000, ge=1024)
    warm_up: bool = Field(True, description="compile optimizers and health-check context at start-up")
    # database: a busy database answers 503 + Retry-After instead of holding the request
    db_busy_timeout_seconds: float = Field(5.0, gt=0, le=60, description="SQLite busy timeout / PostgreSQL "
                                                                          "lock_timeout")
    db_statement_timeout_seconds: float = Field(30.0, gt=0, le=600, description="PostgreSQL statement_timeout")
    db_pool_timeout_seconds: float = Field(5.0, gt=0, le=60, description="wait for a pooled connection")
    retry_after_seconds: int = Field(2, ge=1, le=600, description="Retry-After on 503 database busy")
    # per-subject write rate limits (token bucket per worker process); 0 disables
    write_rate_per_minute: float = Field(30.0, ge=0, description="customer and RM writes per minute")
    write_burst: int = Field(10, ge=1, description="customer and RM writes allowed at once")
    ops_write_rate_per_minute: float = Field(600.0, ge=0, description="ops writes per minute (reference data)")
    ops_write_burst: int = Field(200, ge=1)
    # slow clients (api.server): a request must arrive in time; connections are capped
    header_timeout_seconds: float = Field(10.0, gt=0, le=300, description="request line and headers")
    body_timeout_seconds: float = Field(30.0, gt=0, le=600, description="the whole body, once headers are in")
    keep_alive_seconds: int = Field(5, ge=1, le=300, description="idle keep-alive connection")
    limit_concurrency: int = Field(1000, ge=1, description="connections + tasks per worker before 503")

    @field_validator("data_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @model_validator(mode="after")
    def _safe_to_start(self) -> Settings:
        """Refuse, with the reason, a configuration that would accept forgeable tokens or expose a demo."""
        if self.demo and not is_loopback(self.host):
            raise ValueError(f"ADVISOR_DEMO=true serves the public development secret and demo data, so it binds "
                             f"only to this machine (127.0.0.1 / ::1), not {self.host!r}; set ADVISOR_DEMO=false "
                             "with your own ADVISOR_JWT_SECRET or ADVISOR_JWT_PUBLIC_KEY")
        if not self.asymmetric and self.jwt_secret is not None:
            if self.jwt_secret == DEV_JWT_SECRET and not self.demo:
                raise ValueError("ADVISOR_JWT_SECRET is the public development secret; anyone can sign tokens "
                                 "with it — generate your own (e.g. `openssl rand -hex 32`)")
            if len(self.jwt_secret.encode()) < MIN_HMAC_SECRET_BYTES:
                raise ValueError(f"ADVISOR_JWT_SECRET has {len(self.jwt_secret.encode())} bytes; an HMAC secret "
                                 f"needs at least {MIN_HMAC_SECRET_BYTES} (e.g. `openssl rand -hex 32`)")
        if self.token_ttl_minutes > self.jwt_max_lifetime_minutes:
            raise ValueError(f"ADVISOR_TOKEN_TTL_MINUTES ({self.token_ttl_minutes}) is above "
                             f"ADVISOR_JWT_MAX_LIFETIME_MINUTES ({self.jwt_max_lifetime_minutes})")
        return self

    @cached_property
    def asymmetric(self) -> bool:
        return self.jwt_algorithm.startswith(ASYMMETRIC_PREFIXES)

    @cached_property
    def verification_key(self) -> str:
        """The key that verifies tokens (public key or shared secret)."""
        if self.asymmetric:
            if not self.jwt_public_key:
                raise ValueError(f"ADVISOR_JWT_PUBLIC_KEY is required for {self.jwt_algorithm}")
            return self.jwt_public_key
        if self.jwt_secret:
            return self.jwt_secret
        if self.demo:
            return DEV_JWT_SECRET
        raise ValueError("ADVISOR_JWT_SECRET (at least 32 bytes) or ADVISOR_JWT_PUBLIC_KEY is required; "
                         "ADVISOR_DEMO=true on 127.0.0.1 runs a local demo with the development secret")

    @cached_property
    def signing_key(self) -> str:
        """The key that mints tokens (development and tests; production tokens come from the bank's IdP)."""
        if self.asymmetric:
            if not self.jwt_private_key:
                raise ValueError(f"ADVISOR_JWT_PRIVATE_KEY is required to mint {self.jwt_algorithm} tokens")
            return self.jwt_private_key
        return self.verification_key


class SettingsError(ValueError):
    """A configuration the service refuses to start with; the message says which setting and why."""


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment plus `overrides`, with a plain-language error instead of pydantic's."""
    from pydantic import ValidationError

    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        settings.verification_key  # noqa: B018 - a missing key is a start-up error, not a 401 later
        return settings
    except ValidationError as err:
        reasons = []
        for item in err.errors():
            where = ".".join(str(p) for p in item.get("loc", ()))
            message = str(item.get("msg", "")).removeprefix("Value error, ")
            reasons.append(f"ADVISOR_{where.upper()}: {message}" if where else message)
        raise SettingsError("; ".join(reasons)) from None
    except ValueError as err:
        raise SettingsError(str(err)) from None
