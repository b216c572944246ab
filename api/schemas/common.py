"""Shared schema pieces: strict request base, ids, pagination."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, get_args

from fastapi import Depends, Path, Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from advisor import limits

ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
FUND_CODE_PATTERN = r"^[A-Za-z0-9]{1,16}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

CustomerId = Annotated[str, Path(pattern=ID_PATTERN, description="customer id (letters, digits, _ . -)")]
RmId = Annotated[str, Path(pattern=ID_PATTERN, description="relationship manager id (letters, digits, _ . -)")]
FundCode = Annotated[str, Path(pattern=FUND_CODE_PATTERN, description="fund code, e.g. 000001")]
ProposalId = Annotated[str, Path(pattern=UUID_PATTERN, description="proposal id (UUID)")]


def _whole_cents(value: float) -> float:
    if not limits.is_whole_cents(value):
        raise ValueError("must have at most two decimals (whole fen)")
    return value


# Money and horizons: the bounds of `advisor.limits`, so the schema and the core refuse the same values.
# "multipleOf" is published for clients (whole fen); the check itself is `_whole_cents`, tolerant of binary floats
CENTS = {"multipleOf": 0.01}
Money = Annotated[float, Field(gt=0, le=limits.MAX_MONEY, description="yuan, at most two decimals",
                               json_schema_extra=CENTS), AfterValidator(_whole_cents)]
MoneyOrZero = Annotated[float, Field(ge=0, le=limits.MAX_MONEY, description="yuan, at most two decimals",
                                     json_schema_extra=CENTS), AfterValidator(_whole_cents)]
HorizonYears = Annotated[float, Field(gt=0, le=limits.MAX_HORIZON_YEARS, description="investment horizon in years")]
TargetReturn = Annotated[float, Field(ge=limits.TARGET_RETURN_MIN, le=limits.TARGET_RETURN_MAX,
                                      description="yearly target return as a fraction, e.g. 0.05")]


def _iso_date(value: object) -> object:
    """A date is a `YYYY-MM-DD` string (or a date): no timestamps, no datetimes."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and ISO_DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("not a calendar date") from None
    raise ValueError("must be a date written YYYY-MM-DD")


ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]

EARLIEST_DATE = date(1990, 1, 1)  # before the first Chinese mutual fund
# JSON Schema cannot compare dates: the lower bound is published as a pattern (years 1990–2999)
FROM_1990_PATTERN = r"^(199[0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"


def _from_1990(day: date) -> date:
    if day < EARLIEST_DATE:  # said in the caller's words, not as a Python date literal
        raise ValueError(f"cannot be before {EARLIEST_DATE.isoformat()}")
    return day


# A date in the history of Chinese funds (a purchase, a transaction, the start of a simulation)
HistoricDate = Annotated[IsoDate, AfterValidator(_from_1990), WithJsonSchema(
    {"type": "string", "format": "date", "pattern": FROM_1990_PATTERN, "description": "YYYY-MM-DD, from 1990"})]
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def _refuse_control_characters(value: Any) -> None:
    if isinstance(value, str):
        if CONTROL_CHARS.search(value):
            raise ValueError("control characters (such as NUL or line breaks) are not allowed")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_control_characters(key)
            _refuse_control_characters(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_control_characters(item)


STR_MAX_LENGTH = 256
NO_CONTROL_CHARACTERS = "^[^\\x00-\\x1f\\x7f]*$"


def _publish_text_rule(schema: dict[str, Any]) -> None:
    """Say in the OpenAPI schema what `StrictModel` enforces on text: no control characters in any string
    (values, and the keys of free-form maps), so that a request valid by the spec is valid here too."""
    if schema.get("type") == "string" and "format" not in schema and "enum" not in schema \
            and "const" not in schema:
        schema.setdefault("pattern", NO_CONTROL_CHARACTERS)
        schema.setdefault("maxLength", STR_MAX_LENGTH)
    if schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        schema.setdefault("propertyNames", {}).setdefault("pattern", NO_CONTROL_CHARACTERS)
    for value in schema.values():
        if isinstance(value, dict):
            _publish_text_rule(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _publish_text_rule(item)


def publish(extra: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` for a StrictModel subclass that adds `extra` (e.g. an `anyOf` or `if`/`then` its
    validation enforces) and keeps publishing the text rule (a subclass's `json_schema_extra` replaces the
    parent's)."""
    def apply(schema: dict[str, Any]) -> None:
        schema.update(extra)
        _publish_text_rule(schema)
    return apply


class StrictModel(BaseModel):
    """Request bodies: strict JSON types (a number is a number — `true` or `"5"` is not; an integer field
    takes 41 or 41.0, as JSON Schema's `integer` does, but not 41.5), unknown fields, NaN, infinity and
    control characters in any text are refused (422 naming the field). Dates use `IsoDate`."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=STR_MAX_LENGTH, strict=True,
                              json_schema_extra=_publish_text_rule)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        annotation = cls.model_fields[info.field_name].annotation
        if not _holds_models(annotation):  # nested models check their own
            _refuse_control_characters(value)
        if isinstance(value, float) and value.is_integer() and _integer_field(annotation):
            return int(value)
        return value


def _integer_field(annotation: Any) -> bool:
    """`int` or `int | None` (not `float`, not a union that also takes floats)."""
    options = {annotation} if not get_args(annotation) else set(get_args(annotation)) - {type(None)}
    return options == {int}


def _holds_models(annotation: Any) -> bool:
    """True when a field's type is, or contains, a pydantic model (which validates its own text)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_models(arg) for arg in get_args(annotation))


class Page(BaseModel):
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)


MAX_PAGE_SIZE = 200


class Pagination(BaseModel):
    """`?limit=&offset=` — every list of the API pages the same way and answers `page` beside `items`."""

    limit: int = 50
    offset: int = 0

    def page(self, total: int) -> Page:
        return Page(total=total, limit=self.limit, offset=self.offset)

    def cut(self, items: list) -> list:
        return items[self.offset: self.offset + self.limit]


def pagination(limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")] = 50,
               offset: Annotated[int, Query(ge=0, le=1_000_000, description="rows to skip")] = 0) -> Pagination:
    return Pagination(limit=limit, offset=offset)


Paged = Annotated[Pagination, Depends(pagination)]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: bool
    universe_loaded: bool
    universe_version: str | None = None
    universe_as_of: str | None = None
    questionnaire_version: str | None = None
PlanId = Annotated[str, Path(pattern=UUID_PATTERN, description="rebalancing plan id (UUID)")]
