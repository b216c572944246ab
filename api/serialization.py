"""Core results (numpy, pandas, dates, NaN) to plain JSON values for responses and JSON columns."""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN / inf / NaT become null, dates ISO strings, numpy scalars Python ones."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pd.Series):
        return jsonable(value.to_dict())
    if isinstance(value, pd.DataFrame):
        return jsonable(value.to_dict(orient="records"))
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return jsonable(value.to_dict())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)
