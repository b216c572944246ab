"""Batch customer formats: read and validate customers and holdings lots, value the lots.

The two tables every batch job (health check, rebalancing, the API's bulk endpoints) exchanges
(Parquet or CSV, or a DataFrame already in memory):

``customers`` — one row per customer
    ``customer_id`` (str, unique), ``risk_level`` (``C1``…``C5``; the numbers ``1``…``5``, as text or an
    integer column, are read as C1…C5), ``lowest_category`` (bool, default False; true makes the
    customer C1 whatever ``risk_level`` says — the row is kept with ``risk_level`` 1 and
    ``risk_level_coerced`` True), ``assessment_expires_on`` (date; empty = never assessed), ``age`` (int),
    ``horizon_years`` (float), ``monthly_expenses`` (float, yuan), ``cash`` (float, yuan), optional held-away assets
    ``deposits``, ``wealth_products``, ``insurance`` (yuan; an empty ``insurance`` means *not declared*),
    ``rm_id`` (str).
``holdings`` — one row per lot
    ``customer_id``, ``code`` (fund code), ``shares`` and/or ``amount`` (current value, yuan; at least one),
    ``purchase_date`` (date).

Readers never raise on a bad row: they return ``(clean, rejects)`` where ``rejects`` has the columns
``table, customer_id, row, field, reason`` (``row`` = 0-based position in the input while in memory;
`rejects_for_people` numbers them from 1, the first record after the header, in every rejects file and
answer). Everything is vectorized, so a file of millions of rows validates in seconds.

One policy for a customer with a rejected holding row (health check, rebalancing, nightly jobs alike):
the customer is skipped — advice on a partial picture of the holdings could miss a fund above the
customer's level — and reported as a customers reject naming how many holding rows were rejected
(`skip_customers_with_rejected_lots`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from advisor import limits
from products.errors import BadInputError, DataError
from products.universe import Universe

REJECT_COLUMNS = ["table", "customer_id", "row", "field", "reason"]
CUSTOMER_LEVELS = {f"C{i}": i for i in range(1, 6)}
# A level may also be written as its number (an integer column in Parquet, or "3" in text): 3 means C3.
LEVEL_SPELLINGS = [*CUSTOMER_LEVELS, *(str(i) for i in CUSTOMER_LEVELS.values())]
HELD_AWAY_COLUMNS = ("deposits", "wealth_products", "insurance")
CUSTOMER_REQUIRED = ("customer_id", "risk_level")
HOLDING_REQUIRED = ("customer_id", "code", "purchase_date")

PathOrFrame = str | os.PathLike[str] | pd.DataFrame | pa.Table


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------

def read_arrow(source: PathOrFrame, *, string_columns: tuple[str, ...] = ()) -> tuple[pa.Table | pd.DataFrame, bool]:
    """(table, typed): a Parquet / CSV file as an Arrow table, an Arrow table as is, a DataFrame as is.

    `typed` is True for Parquet / Arrow input (text is taken as written) and False for CSV and frames
    (text is trimmed)."""
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), False
    if isinstance(source, pa.Table):
        return source, True
    path = Path(source)
    if not path.exists():
        raise DataError(f"input file {path} does not exist", code="file_missing", details={"path": str(path)})
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pq.read_table(path), True
        if suffix in (".csv", ".txt") or path.name.endswith(".csv.gz"):
            convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in string_columns},
                                           strings_can_be_null=True)
            return pacsv.read_csv(path, convert_options=convert), False
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"{path.name} could not be read: {err}", code="bad_format",
                        details={"path": str(path)}) from None
    raise DataError(f"{path.name}: expected a .parquet or .csv file", code="bad_format", details={"path": str(path)})


def read_table(source: PathOrFrame, *, string_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A Parquet or CSV file (or a DataFrame / Arrow table) as a DataFrame; id columns stay text.

    `attrs["typed"]` is True for Parquet / Arrow input (text is taken as written) and False for CSV and
    frames (text is trimmed)."""
    table, typed = read_arrow(source, string_columns=string_columns)
    frame = table if isinstance(table, pd.DataFrame) else table.to_pandas(date_as_object=False)
    frame.attrs["typed"] = typed
    return frame


def _column_text(column: pd.Series | pa.ChunkedArray, trim: bool, *, pad_code: bool = False) -> pa.Array:
    """A text column (pandas or Arrow) as an Arrow string array, NA for empty (see `_text`)."""
    if isinstance(column, pd.Series):
        return _arrow_strings(_text(column, trim, pad_code=pad_code))
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or pa.types.is_dictionary(
            column.type):
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        array = array.cast(pa.string())
        if trim:
            array = pc.utf8_trim_whitespace(array)
        return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)
    return _arrow_strings(_text(column.to_pandas(), trim, pad_code=pad_code))


def _column_number(column: pd.Series | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(column, pa.ChunkedArray) and (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        return column.to_numpy().astype(float), np.zeros(len(column), dtype=bool)
    return _number(column if isinstance(column, pd.Series) else column.to_pandas())


def _column_dates(column: pd.Series | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(column, pa.ChunkedArray) and (pa.types.is_date(column.type) or pa.types.is_timestamp(column.type)):
        days = column.cast(pa.date32()).to_numpy().astype("datetime64[D]")
        return days, np.zeros(len(column), dtype=bool)
    return _dates(column if isinstance(column, pd.Series) else column.to_pandas(date_as_object=False))


def _text(values: pd.Series, trim: bool = True, *, pad_code: bool = False) -> pd.Series:
    """Text with missing values as NA, trimmed unless `trim` is False. Numbers are written without a
    decimal point when whole (3.0 → '3'); only a fund code (`pad_code`) is zero-padded to 6 digits, since
    a code stored as an integer has lost its leading zeros (118 → '000118')."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.astype(float)
        whole = np.isfinite(numbers) & (numbers == numbers.round())
        out = numbers.astype("str").where(~whole, numbers.where(whole).astype("Int64").astype("str"))
        if pad_code:
            out = out.str.zfill(6)
        return out.where(values.notna())
    array = _arrow_strings(values)
    if trim:
        array = pc.utf8_trim_whitespace(array)
    array = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)
    return pd.Series(array.to_pandas(), index=values.index, dtype="str")


def _number(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float values, mask of entries that were given but are not numbers)."""
    given = values.notna().to_numpy()
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return numbers, given & np.isnan(numbers)


def _dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[D] values, mask of entries that were given but are not dates)."""
    given = values.notna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(values.dtype) and getattr(values.dtype, "tz", None) is None:
        return values.to_numpy().astype("datetime64[D]"), np.zeros(len(values), dtype=bool)
    parsed = pd.to_datetime(values.astype("str"), errors="coerce", format="mixed")
    days = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    return days, given & np.isnat(days)


def _bools(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).to_numpy(dtype=bool), np.zeros(len(values), bool)
    text = values.astype("str").str.strip().str.lower()
    true = text.isin(["true", "1", "yes", "y", "t", "是"]).to_numpy()
    false = text.isin(["false", "0", "no", "n", "f", "否", ""]).to_numpy() | values.isna().to_numpy()
    return true, ~(true | false)


class _Rejects:
    """Collects row rejections; each row is rejected once, for the first problem found."""

    def __init__(self, table: str, ids: pd.Series | pa.Array):
        self.table = table
        self.ids = ids
        self.bad = np.zeros(len(ids), dtype=bool)
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray, field: str, reason: str | np.ndarray) -> None:
        new = np.asarray(mask, dtype=bool) & ~self.bad
        if not new.any():
            return
        rows = np.flatnonzero(new)
        reasons = reason[rows] if isinstance(reason, np.ndarray) else np.full(len(rows), reason, dtype=object)
        if isinstance(self.ids, pd.Series):
            ids = self.ids.iloc[rows].to_numpy(dtype=object, na_value=None)
        else:
            ids = np.asarray(self.ids.take(pa.array(rows)).to_pylist(), dtype=object)
        self.parts.append(pd.DataFrame({
            "table": self.table, "customer_id": ids,
            "row": rows.astype(np.int64), "field": field, "reason": reasons,
        }))
        self.bad |= new

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return empty_rejects()
        return pd.concat(self.parts, ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)


def rejects_for_people(rejects: pd.DataFrame) -> pd.DataFrame:
    """`rejects` with `row` numbered from 1 (the first record after the header), as a user counts the rows
    of their file; a reject that names no row keeps its negative marker."""
    if rejects.empty or "row" not in rejects.columns:
        return rejects
    rows = rejects["row"].to_numpy(dtype=np.int64, na_value=-1)
    return rejects.assign(row=np.where(rows >= 0, rows + 1, rows))


def rejects_path_for(out: str | Path) -> Path:
    """Where a batch command writes its rejects unless told: ``<out stem>.rejects.parquet`` beside `out`."""
    out = Path(out)
    return out.with_name(f"{out.stem}.rejects.parquet")


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """A batch output: CSV when `path` ends in ``.csv``, else Parquet without pandas' dtype metadata (so list
    columns such as `lot_dates` read back anywhere); the folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table.replace_schema_metadata(None), path)
    return path


def write_rejects(rejects: pd.DataFrame, path: str | Path) -> Path:
    """Write `rejects` for people (rows from 1) as Parquet, or CSV when `path` ends in ``.csv``."""
    frame = rejects_for_people(rejects if len(rejects) else empty_rejects())
    frame = frame[REJECT_COLUMNS].astype({"table": "str", "customer_id": "str", "field": "str", "reason": "str"})
    return write_table(frame, path)


def skip_customers_with_rejected_lots(customers: pd.DataFrame, holding_rejects: pd.DataFrame
                                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers kept, one customers reject per skipped customer): a customer with any rejected holding
    row is not advised on the rest (see the module's policy). `customers` is a `read_customers` frame."""
    if holding_rejects.empty:
        return customers, empty_rejects()
    counts = holding_rejects["customer_id"].dropna().astype(str).value_counts()
    ids = customers["customer_id"].astype(str)
    skip = ids.isin(counts.index).to_numpy()
    if not skip.any():
        return customers, empty_rejects()
    skipped = ids[skip]
    n = counts.reindex(skipped).to_numpy(dtype=np.int64)
    reasons = np.array([f"customer skipped: {k} of their holding rows {'was' if k == 1 else 'were'} rejected "
                        "(see the holdings rejects)" for k in n], dtype=object)
    rows = (customers["row"].to_numpy(dtype=np.int64)[skip] if "row" in customers.columns
            else np.flatnonzero(skip).astype(np.int64))
    rejects = pd.DataFrame({"table": "customers", "customer_id": skipped.to_numpy(dtype=object), "row": rows,
                            "field": "holdings", "reason": reasons})
    return customers.loc[~skip].reset_index(drop=True), rejects


def single_customer_error(rejects: pd.DataFrame) -> BadInputError:
    """The error for a single customer's JSON that the batch would reject (health check and rebalancing
    alike): the first bad holding is named by its place in the list (``holdings[2].code``, counted from 0
    as in every JSON path the API reports), else the customer's field."""
    def json_field(reject: dict) -> str:
        return (f"holdings[{int(reject['row'])}].{reject['field']}" if reject["table"] == "holdings"
                else str(reject["field"]))

    records = rejects.to_dict(orient="records")
    first = next((r for r in records if r["table"] == "holdings"), records[0])  # a bad lot is named first
    field = json_field(first)
    return BadInputError(f"{field}: {first['reason']}", code="bad_row", details={
        "field": field, "rejects": [{"field": json_field(r), "reason": str(r["reason"])} for r in records]})


def empty_rejects() -> pd.DataFrame:
    """A rejects table with no rows (shallow copy of one built once: single-customer calls are hot)."""
    return _empty_rejects().copy(deep=False)


@lru_cache(maxsize=1)
def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({"table": pd.Series(dtype="str"), "customer_id": pd.Series(dtype="str"),
                         "row": pd.Series(dtype="int64"), "field": pd.Series(dtype="str"),
                         "reason": pd.Series(dtype="str")})


def _require_columns(frame: pd.DataFrame, required: tuple[str, ...], table: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise BadInputError(f"{table} table is missing column(s) {', '.join(missing)}",
                            code="missing_columns", details={"table": table, "missing": missing})


def read_customers(source: PathOrFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validated customers (typed columns, `risk_level` as int 1–5) and the rejected rows with reasons.

    A lowest-category row is C1 (`risk_level` 1); `risk_level_coerced` flags the rows that stated a
    higher level and were lowered to C1."""
    raw = read_table(source, string_columns=("customer_id", "risk_level", "rm_id"))
    _require_columns(raw, CUSTOMER_REQUIRED, "customers")
    n = len(raw)
    trim = not raw.attrs.get("typed", False)
    ids = _text(raw["customer_id"], trim)
    rejects = _Rejects("customers", ids)
    rejects.add(ids.isna().to_numpy(), "customer_id", "customer_id is empty")
    first_seen = positions_in(ids, ids)
    rejects.add((first_seen != np.arange(n)) & ids.notna().to_numpy(), "customer_id",
                "duplicate customer_id (first row kept)")

    level_text = pc.utf8_upper(_arrow_strings(_text(raw["risk_level"], trim)))
    found = pc.index_in(level_text, value_set=pa.array(LEVEL_SPELLINGS)).to_numpy(zero_copy_only=False)
    level = np.asarray(found, dtype=float) % len(CUSTOMER_LEVELS) + 1.0
    bad_level = np.isnan(level)
    reasons = np.array([f"unknown risk level {v!r}; expected C1–C5 (or 1–5)" for v in
                        level_text.to_pylist()], dtype=object) if bad_level.any() else ""
    rejects.add(bad_level, "risk_level", reasons)

    out: dict[str, object] = {"customer_id": ids, "risk_level": np.nan_to_num(level, nan=1).astype(np.int8)}
    if "lowest_category" in raw.columns:
        lowest, bad = _bools(raw["lowest_category"])
        rejects.add(bad, "lowest_category", "lowest_category is not true/false")
    else:
        lowest = np.zeros(n, dtype=bool)
    out["lowest_category"] = lowest
    # The lowest category means C1 (R1 products only) whatever level the row states: a "C3 + lowest
    # category" row is coerced to C1, not rejected, and `risk_level_coerced` records that it was.
    coerced = lowest & (level > 1)
    out["risk_level"] = np.where(lowest, 1, out["risk_level"]).astype(np.int8)
    out["risk_level_coerced"] = coerced

    if "assessment_expires_on" in raw.columns:
        expires, bad = _dates(raw["assessment_expires_on"])
        rejects.add(bad, "assessment_expires_on", "assessment_expires_on is not a date")
    else:
        expires = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    out["assessment_expires_on"] = expires

    money = limits.MAX_MONEY
    numeric_rules = (  # name, low, high, default, low bound exclusive
        ("age", 0.0, 130.0, np.nan, False), ("horizon_years", 0.0, limits.MAX_HORIZON_YEARS, np.nan, True),
        ("monthly_expenses", 0.0, money, np.nan, False), ("cash", 0.0, money, 0.0, False),
        ("deposits", 0.0, money, 0.0, False), ("wealth_products", 0.0, money, 0.0, False),
        ("insurance", 0.0, money, np.nan, False),
    )
    for name, low, high, default, exclusive in numeric_rules:
        if name in raw.columns:
            values, bad = _number(raw[name])
            rejects.add(bad, name, f"{name} is not a number")
            below = (values <= low) if exclusive else (values < low)
            rejects.add(~np.isnan(values) & (below | (values > high)), name,
                        f"{name} must be {'more than' if exclusive else 'at least'} {low:g} and at most {high:,.0f}")
            if not np.isnan(default):
                values = np.where(np.isnan(values), default, values)
        else:
            values = np.full(n, default)
        out[name] = values
    out["rm_id"] = _text(raw["rm_id"]) if "rm_id" in raw.columns else pd.Series(pd.NA, index=ids.index, dtype="str")
    out["row"] = np.arange(n, dtype=np.int64)
    frame = pd.DataFrame(out)
    clean = frame.loc[~rejects.bad].reset_index(drop=True) if rejects.bad.any() else frame
    return clean, rejects.frame()


@dataclass
class HoldingArrays:
    """Validated lot columns (all rows; `bad` marks the rejected ones) — the array form `read_holdings`
    and the batch engine share, so both apply exactly the same rules."""

    customer_id: pa.Array
    code: pa.Array
    shares: np.ndarray
    amount: np.ndarray
    purchase_date: np.ndarray  # datetime64[D]
    fund_idx: np.ndarray | None
    bad: np.ndarray
    rejects: pd.DataFrame


def validate_holdings(source: PathOrFrame, *, universe: Universe | None = None,
                      as_of: date | None = None) -> HoldingArrays:
    """Read and validate lots without building a DataFrame (see `read_holdings`)."""
    raw, typed = read_arrow(source, string_columns=("customer_id", "code"))
    names = list(raw.columns) if isinstance(raw, pd.DataFrame) else raw.column_names
    missing = [c for c in HOLDING_REQUIRED if c not in names]
    if missing:
        raise BadInputError(f"holdings table is missing column(s) {', '.join(missing)}",
                            code="missing_columns", details={"table": "holdings", "missing": missing})
    if "shares" not in names and "amount" not in names:
        raise BadInputError("holdings table needs a shares or an amount column", code="missing_columns",
                            details={"table": "holdings", "missing": ["shares", "amount"]})
    n = len(raw)
    ids = _column_text(raw["customer_id"], not typed)
    codes = _column_text(raw["code"], not typed, pad_code=True)
    rejects = _Rejects("holdings", ids)
    rejects.add(ids.is_null().to_numpy(zero_copy_only=False), "customer_id", "customer_id is empty")
    code_missing = codes.is_null().to_numpy(zero_copy_only=False)
    rejects.add(code_missing, "code", "fund code is empty")

    shares, bad_shares = _column_number(raw["shares"]) if "shares" in names else (np.full(n, np.nan), None)
    amount, bad_amount = _column_number(raw["amount"]) if "amount" in names else (np.full(n, np.nan), None)
    if bad_shares is not None:
        rejects.add(bad_shares, "shares", "shares is not a number")
    if bad_amount is not None:
        rejects.add(bad_amount, "amount", "amount is not a number")
    rejects.add(shares < 0, "shares", "negative shares")
    rejects.add(amount < 0, "amount", "negative amount")
    rejects.add(np.isnan(shares) & np.isnan(amount), "shares", "neither shares nor amount given")
    rejects.add(~np.isfinite(shares) & ~np.isnan(shares), "shares", "shares is not finite")
    rejects.add(~np.isfinite(amount) & ~np.isnan(amount), "amount", "amount is not finite")

    purchase, bad_date = _column_dates(raw["purchase_date"])
    rejects.add(bad_date | np.isnat(purchase), "purchase_date", "purchase_date is missing or not a date")
    if as_of is not None:
        rejects.add(purchase > np.datetime64(as_of, "D"), "purchase_date", f"purchase_date after {as_of}")
    fund_idx = None
    if universe is not None:
        fund_idx = fund_index(universe, codes)
        rejects.add((fund_idx < 0) & ~code_missing, "code", "unknown fund code")
    return HoldingArrays(ids, codes, shares, amount, purchase, fund_idx, rejects.bad, rejects.frame())


def read_holdings(source: PathOrFrame, *, universe: Universe | None = None,
                  as_of: date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validated lots and the rejected rows with reasons.

    With a `universe`, codes it does not know are rejected (and `fund_idx` is added); with `as_of`,
    purchase dates after it are. The clean frame has `customer_id, code, shares, amount, purchase_date
    (datetime64[D]), row`.
    """
    lots = validate_holdings(source, universe=universe, as_of=as_of)
    keep = ~lots.bad
    mask = pa.array(keep)
    clean = pd.DataFrame({
        "customer_id": lots.customer_id.filter(mask).to_pandas(),
        "code": lots.code.filter(mask).to_pandas(),
        "shares": lots.shares[keep], "amount": lots.amount[keep], "purchase_date": lots.purchase_date[keep],
        "row": np.flatnonzero(keep).astype(np.int64)})
    if lots.fund_idx is not None:
        clean["fund_idx"] = lots.fund_idx[keep].astype(np.int32)
    return clean, lots.rejects


def reject_orphans(customers: pd.DataFrame, holdings: pd.DataFrame,
                   customer_rejects: pd.DataFrame | None = None,
                   position: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop lots whose customer is not in `customers`, returning them as rejects (reason says why).
    `position` (each lot's customer row, from `customer_positions`) is computed when not given."""
    if position is None:
        position = customer_positions(customers["customer_id"], holdings["customer_id"])
    orphan = position < 0
    if not orphan.any():
        return holdings, empty_rejects()
    ids = holdings["customer_id"].to_numpy(dtype=object)[orphan]
    rejects = orphan_rejects(ids, holdings["row"].to_numpy()[orphan], customer_rejects)
    return holdings.loc[~orphan].reset_index(drop=True), rejects


def orphan_rejects(ids: np.ndarray, rows: np.ndarray, customer_rejects: pd.DataFrame | None) -> pd.DataFrame:
    """Rejects for lots of customers that are missing, or whose row was rejected."""
    known = (customer_rejects.dropna(subset=["customer_id"]) if customer_rejects is not None
             else empty_rejects())
    fields = known["field"].astype(str) if "field" in known.columns else pd.Series("", index=known.index)
    field_of = dict(zip(known["customer_id"].astype(str), fields, strict=True))
    why = {"holdings": "customer skipped: another of their holding rows was rejected"}
    reasons = np.array([why.get(field_of[i], "customer row was rejected") if i in field_of
                        else "customer_id not in customers table" for i in map(str, ids)], dtype=object)
    return pd.DataFrame({"table": "holdings", "customer_id": ids, "row": rows, "field": "customer_id",
                         "reason": reasons})


# ---------------------------------------------------------------------------------------------
# index lookups and valuation
# ---------------------------------------------------------------------------------------------

def _arrow_strings(values: pd.Series | np.ndarray | pa.Array) -> pa.Array:
    """Text as an Arrow string array (zero-copy for pandas' Arrow-backed `str` columns)."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        array = values
    elif isinstance(values, pd.Series):
        if not pd.api.types.is_string_dtype(values.dtype):
            values = values.astype("str")
        array = pa.array(values)
    else:
        array = pa.array(np.asarray(values, dtype=object), type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.string()) if array.type != pa.string() else array


def positions_in(values: pd.Series | np.ndarray | pa.Array, value_set: pd.Series | np.ndarray) -> np.ndarray:
    """Position of each value in `value_set` (-1 where absent); a hash join in Arrow, fast for millions."""
    found = pc.index_in(_arrow_strings(values), value_set=_arrow_strings(value_set))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def customer_positions(customer_ids: pd.Series, holding_ids: pd.Series | pa.Array) -> np.ndarray:
    return positions_in(holding_ids, customer_ids)


def fund_index(universe: Universe, codes: pd.Series | np.ndarray | pa.Array) -> np.ndarray:
    """Universe position of each fund code (-1 for unknown codes)."""
    return positions_in(codes, np.asarray(universe.codes, dtype=object))


@lru_cache(maxsize=8)
def _latest_unit_nav(universe: Universe) -> np.ndarray:
    return latest_unit_nav(universe)


def latest_unit_nav(universe: Universe) -> np.ndarray:
    """Last published unit NAV per fund (money-market funds 1.0); the total-return index where unit NAV
    is missing, so `shares × NAV` always has a price."""
    n = len(universe.funds)
    nav = np.full(n, np.nan)
    unit = universe.unit_nav
    if unit is not None and not unit.empty:
        last = unit.reindex(columns=universe.funds.index).ffill().iloc[-1].to_numpy(dtype=float)
        nav = np.where(np.isfinite(last) & (last > 0), last, nav)
    missing = np.isnan(nav)
    if missing.any() and not universe.returns.empty:
        index = universe.total_return_index().ffill().iloc[-1].to_numpy(dtype=float)
        nav = np.where(missing & np.isfinite(index), index, nav)
    money = universe.funds["fund_type"].astype("str").to_numpy() == "money_market"
    nav = np.where(money | np.isnan(nav), 1.0, nav)
    return nav


def lot_values(universe: Universe, fund_idx: np.ndarray, shares: np.ndarray, amount: np.ndarray,
               purchase_date: np.ndarray, as_of: date) -> tuple[np.ndarray, np.ndarray]:
    """(value in yuan, holding days) per lot: shares × latest unit NAV where both are known, else the
    amount given; NaN for unknown funds (`fund_idx` -1)."""
    nav = _latest_unit_nav(universe)
    known = fund_idx >= 0
    price = np.where(known, nav[np.where(known, fund_idx, 0)], np.nan)
    value = np.where(np.isfinite(shares) & np.isfinite(price), shares * price, amount)
    days = (np.datetime64(as_of, "D") - purchase_date.astype("datetime64[D]")).astype(np.int64)
    return np.where(known, value, np.nan), days.astype(np.int32)


def value_lots(universe: Universe, holdings: pd.DataFrame, as_of: date | None = None) -> pd.DataFrame:
    """The lots with `fund_idx` (-1 unknown), `value` (yuan: shares × latest unit NAV, else the amount
    given; NaN for unknown funds) and `holding_days` (whole days from purchase to `as_of`, default today)."""
    as_of = as_of or date.today()
    idx = fund_index(universe, holdings["code"]) if "fund_idx" not in holdings.columns else (
        holdings["fund_idx"].to_numpy(dtype=np.int64))
    n = len(holdings)
    shares = holdings["shares"].to_numpy(dtype=float) if "shares" in holdings.columns else np.full(n, np.nan)
    amount = holdings["amount"].to_numpy(dtype=float) if "amount" in holdings.columns else np.full(n, np.nan)
    value, days = lot_values(universe, idx, shares, amount, holdings["purchase_date"].to_numpy(dtype="datetime64[D]"),
                             as_of)
    return holdings.assign(fund_idx=idx.astype(np.int32), value=value, holding_days=days)
