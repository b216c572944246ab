"""The core exception hierarchy shared by products, risk and advisor.

`api/` maps each class to one HTTP status in one place; the CLI prints the message. Every error
carries a machine code, a human message and optional details (field, row, fund code ...).
"""

from __future__ import annotations

from typing import Any


class AdvisorError(Exception):
    """Base of every error the core raises on purpose."""

    code = "advisor_error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class BadInputError(AdvisorError):
    """The caller's input is malformed or out of range (maps to 422).

    `details["field"]` always names the input at fault, so every door can point at it: given as `field=`
    or in `details`, else the first detail key that names an input (`{"weights": [...]}` → "weights").
    """

    code = "bad_input"
    NOT_FIELDS = ("field", "value", "values", "rows", "rejects", "expected", "valid", "limit", "reason")

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None,
                 field: str | None = None):
        super().__init__(message, code=code, details=details)
        if field is not None:
            self.details["field"] = field
        elif not self.details.get("field"):
            named = next((str(k) for k in self.details if str(k) not in self.NOT_FIELDS), None)
            self.details["field"] = named or "input"


class DataError(AdvisorError):
    """Data files are missing, unreadable or inconsistent (maps to 422 on upload, 503 on start-up)."""

    code = "bad_data"


class NotFoundError(AdvisorError):
    """A fund, customer or record does not exist (maps to 404)."""

    code = "not_found"


class InfeasibleError(AdvisorError):
    """The request cannot be met even after the fallback chain (maps to 422)."""

    code = "infeasible"


class SuitabilityError(AdvisorError):
    """The request would break investor suitability (maps to 403/409)."""

    code = "suitability_violation"


class StaleDataError(AdvisorError):
    """Data or an assessment is too old to act on (maps to 409)."""

    code = "stale_data"
