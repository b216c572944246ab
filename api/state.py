"""What the service loads once at start-up and shares across requests (read-only after start-up)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.ratelimit import RateLimiter
from api.settings import Settings
from products.universe import Universe


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    universe: Universe
    questionnaire: Any = None
    model_version: str = "unknown"
    write_limits: dict[str, RateLimiter] = field(default_factory=dict)  # by role (api.deps.get_principal)
    _cache: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        s = self.settings
        if not self.write_limits:
            people = RateLimiter(s.write_rate_per_minute, s.write_burst)
            self.write_limits = {"customer": people, "rm": people,
                                 "ops": RateLimiter(s.ops_write_rate_per_minute, s.ops_write_burst)}

    @property
    def questionnaire_version(self) -> str:
        return str(getattr(self.questionnaire, "version", "unknown"))

    def cached(self, key: str, build: Any) -> Any:
        """A value computed once per universe (leaderboard, metrics ...), thread-safe."""
        value = self._cache.get(key)
        if value is None:
            with self._lock:
                value = self._cache.get(key)
                if value is None:
                    value = build()
                    self._cache[key] = value
        return value
