"""Reading questionnaire answer files and KYC tables, with errors that name the key, field or row.

Answer file (JSON object): question id → option id, plus optional reserved keys
`facts` (object of customer facts), `customer_id` (text) and `refused` (true = the customer refused the
questionnaire; then no answers are given). A nested `{"answers": {...}}` object is accepted too.
Duplicate keys anywhere in the file are rejected (the JSON standard leaves them undefined).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from products.errors import BadInputError

RESERVED_KEYS = ("facts", "customer_id", "refused", "answers")


@dataclass(frozen=True)
class AnswerFile:
    answers: dict[str, Any] | None  # None = refused
    facts: dict[str, Any] = field(default_factory=dict)
    customer_id: str | None = None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise BadInputError(f"{key}: duplicate key {key!r} in the JSON file (given twice)",
                                details={"question": key})
        seen[key] = value
    return seen


def parse_json_text(text: str, source: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as err:
        raise BadInputError(f"{source}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})",
                            details={"file": source}) from None


def read_json_file(path: Path) -> Any:
    return parse_json_text(Path(path).read_text(encoding="utf-8"), str(path))


def parse_answer_document(doc: Any, source: str = "answers") -> AnswerFile:
    """Split an answer document into answers, facts and customer id (see module docstring)."""
    if not isinstance(doc, dict):
        raise BadInputError(f"{source}: expected a JSON object mapping question id → option id",
                            details={"file": source})
    facts = doc.get("facts") or {}
    if not isinstance(facts, dict):
        raise BadInputError("facts: expected an object", details={"field": "facts"})
    customer_id = doc.get("customer_id")
    if customer_id is not None and not isinstance(customer_id, str | int):
        raise BadInputError("customer_id: expected text", details={"field": "customer_id"})
    refused = doc.get("refused", False)
    if not isinstance(refused, bool):
        raise BadInputError("refused: expected true or false", details={"field": "refused"})
    if "answers" in doc:
        answers = doc["answers"]
        extra = [k for k in doc if k not in RESERVED_KEYS]
        if extra:
            raise BadInputError(f"answers.{extra[0]}: give answers either at the top level or under "
                                "\"answers\", not both", details={"question": extra[0]})
    else:
        answers = {k: v for k, v in doc.items() if k not in RESERVED_KEYS}
    if refused:
        if answers:
            raise BadInputError("refused: a refused questionnaire cannot also carry answers",
                                details={"field": "refused"})
        return AnswerFile(None, facts, None if customer_id is None else str(customer_id))
    if not isinstance(answers, dict):
        raise BadInputError("answers: expected an object mapping question id → option id",
                            details={"field": "answers"})
    return AnswerFile(answers, facts, None if customer_id is None else str(customer_id))


def read_answer_file(path: Path, facts_path: Path | None = None) -> AnswerFile:
    """Read an answer file and, optionally, a separate facts file (facts may not be given twice)."""
    parsed = parse_answer_document(read_json_file(path), str(path))
    if facts_path is None:
        return parsed
    facts = read_json_file(facts_path)
    if not isinstance(facts, dict):
        raise BadInputError(f"{facts_path}: expected a JSON object of customer facts", details={"field": "facts"})
    if parsed.facts:
        raise BadInputError("facts: given both in the answer file and with --facts; give them once",
                            details={"field": "facts"})
    return AnswerFile(parsed.answers, facts, parsed.customer_id)


def read_table(path: Path) -> pd.DataFrame:
    """Read a Parquet or CSV table (by extension); customer ids stay text."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(path, dtype={"customer_id": "string"})
    except (ValueError, OSError) as err:
        raise BadInputError(f"{path}: cannot read table: {err}", details={"file": str(path)}) from None
    raise BadInputError(f"{path}: expected a .parquet or .csv file", details={"file": str(path)})


def write_table(frame: pd.DataFrame, path: Path) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    elif suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        raise BadInputError(f"{path}: output must end in .parquet or .csv", details={"file": str(path)})
