"""The one JSON encoder for core results, used by every door (CLI, API, batch summaries, stored records).

Rules: NaN, ±inf, NaT and pandas NA become null; a timestamp at midnight is a calendar date
(`2026-02-13`), any other timestamp an ISO datetime; enums give their value; numpy scalars and arrays
become Python numbers and lists; a Series becomes an object, a DataFrame a list of records; frozen
dataclasses become objects; anything else with `to_dict()` is converted through it; what is left is
written as its string.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime, time
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """Plain JSON values (dict, list, str, int, float, bool, None) from a core result."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, datetime):  # pd.Timestamp is a datetime
        if pd.isna(value):
            return None
        if value.time() == time.min and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pd.Series):
        return jsonable(value.to_dict())
    if isinstance(value, pd.DataFrame):
        return jsonable(value.to_dict(orient="records"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return jsonable(value.to_dict())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """`jsonable(value)` as JSON text, Chinese kept readable (no \\u escapes)."""
    return json.dumps(jsonable(value), ensure_ascii=False, indent=indent)
