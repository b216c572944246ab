"""The one JSON encoder: every door writes a core result the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

import numpy as np
import pandas as pd

from advisor.cli.common import to_jsonable
from api.serialization import jsonable as api_jsonable
from products.serialization import dumps, jsonable


class Level(Enum):
    C3 = "C3"


@dataclass(frozen=True)
class Line:
    code: str
    weight: float


def test_values_become_plain_json():
    payload = {
        "midnight": pd.Timestamp("2026-02-13"), "moment": pd.Timestamp("2026-02-13 09:30"),
        "day": date(2026, 2, 13), "dt": datetime(2026, 2, 13, 0, 0), "nat": pd.NaT, "na": pd.NA,
        "nan": float("nan"), "inf": np.float64(np.inf), "int": np.int64(3), "flag": np.bool_(True),
        "enum": Level.C3, "array": np.array([1.5, np.nan]), "line": Line("000001", 0.25),
        "series": pd.Series({"a": 1.0}), "frame": pd.DataFrame({"x": [1, 2]}), 7: "key",
    }
    out = jsonable(payload)
    assert out == {
        "midnight": "2026-02-13", "moment": "2026-02-13T09:30:00", "day": "2026-02-13", "dt": "2026-02-13",
        "nat": None, "na": None, "nan": None, "inf": None, "int": 3, "flag": True, "enum": "C3",
        "array": [1.5, None], "line": {"code": "000001", "weight": 0.25}, "series": {"a": 1.0},
        "frame": [{"x": 1}, {"x": 2}], "7": "key",
    }
    json.dumps(out, allow_nan=False)  # strictly valid JSON


def test_cli_and_api_share_the_encoder():
    payload = {"as_of": pd.Timestamp("2026-02-13"), "level": Level.C3, "x": np.float32(0.5)}
    assert to_jsonable(payload) == api_jsonable(payload) == jsonable(payload)
    assert json.loads(dumps(payload)) == jsonable(payload)
    assert "基金" in dumps({"name": "基金"}), "Chinese is written as text, not \\u escapes"
