"""Service settings from `ADVISOR_*` environment variables (pydantic-settings).

Secrets: `ADVISOR_JWT_SECRET` (HS256) or `ADVISOR_JWT_PUBLIC_KEY` (PEM, with an asymmetric
`ADVISOR_JWT_ALGORITHM` such as RS256 / ES256). The built-in development secret is accepted only while
`ADVISOR_DEMO` is true; a production deployment sets `ADVISOR_DEMO=false` and its own key.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "advisor-dev-secret-change-me-0123456789abcdef"
ASYMMETRIC_PREFIXES = ("RS", "ES", "PS", "Ed")


class Settings(BaseSettings):
    """Everything the service needs to start; read once, immutable afterwards."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", frozen=True, extra="ignore")

    database_url: str = Field("sqlite:///./advisor.db", description="SQLAlchemy URL (SQLite or PostgreSQL)")
    data_dir: Path | None = Field(None, description="universe directory; none = embedded demo universe")
    demo: bool = Field(True, description="development mode: dev JWT secret allowed, demo customers seeded")
    jwt_secret: str | None = Field(None, description="HMAC secret for HS* algorithms")
    jwt_private_key: str | None = Field(None, description="PEM private key (only to mint tokens)")
    jwt_public_key: str | None = Field(None, description="PEM public key for RS*/ES*/PS*/EdDSA")
    jwt_algorithm: str = Field("HS256")
    jwt_issuer: str = Field("robo-advisor")
    token_ttl_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    proposal_ttl_minutes: int = Field(30, ge=1, le=7 * 24 * 60)
    rebalance_plan_ttl_minutes: int = Field(30, ge=1, le=7 * 24 * 60,
                                            description="minutes a rebalancing plan may be confirmed")
    max_body_bytes: int = Field(1_000_000, ge=1024)
    warm_up: bool = Field(True, description="compile optimizers and health-check context at start-up")

    @field_validator("data_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

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
        raise ValueError("ADVISOR_JWT_SECRET is required when ADVISOR_DEMO=false")

    @cached_property
    def signing_key(self) -> str:
        """The key that mints tokens (development and tests; production tokens come from the bank's IdP)."""
        if self.asymmetric:
            if not self.jwt_private_key:
                raise ValueError(f"ADVISOR_JWT_PRIVATE_KEY is required to mint {self.jwt_algorithm} tokens")
            return self.jwt_private_key
        return self.verification_key
