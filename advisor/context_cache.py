"""The per-universe research context, built once and loaded by the API, the CLI and every worker.

Everything the service computes once per universe — the universe snapshot itself, the leaderboard,
look-through and overlap, style, correlations, capital market assumptions, the model portfolios, fund
selections, the prepared construction data and solved weights (proposals' `warm_up`), the health
check's `DiagnosisContext` and the compiled construction problems — is produced by the usual builders
(`advisor.diagnosis.diagnosis_context`, `advisor.proposal.warm_up`, `products.research`) and then
pickled as one file. Loading it restores each builder's own per-universe memo, so the same builders
answer from memory: a cold process is ready in about a second instead of tens of seconds.

Key: the data source's fingerprint (every file's path, size and modification time; "demo" for the
embedded universe) AND the code version (a hash of this package's source and of the numerical
libraries' versions). Re-importing data or changing any method — a model, a selection rule, a research
measure — therefore never serves a stale context: the key changes and the context is rebuilt. The
universe version and model version are recorded in the file.

Where: `ADVISOR_CACHE_DIR` if set; else `.advisor-cache/` inside a canonical data directory (beside the
data it was built from); else `~/.cache/advisor`. A cache file is code: keep the directory as trusted as
the installed package (only the service account may write it).
"""

from __future__ import annotations

import copyreg
import hashlib
import importlib
import io
import logging
import os
import pickle
import platform
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any

from products.universe import Universe

log = logging.getLogger(__name__)

CACHE_ENV = "ADVISOR_CACHE_DIR"
BESIDE_DATA = ".advisor-cache"
CACHE_FORMAT = 1
KEEP_FILES = 4  # newest cache files kept per directory
PACKAGES = ("products", "risk", "advisor")
SKIPPED_SOURCE = ("advisor/cli/", "advisor/nightly/")  # commands and the batch runner compute nothing cached
LIBRARIES = ("numpy", "pandas", "pyarrow", "scipy", "cvxpy", "clarabel", "osqp", "pyportfolioopt", "scikit-learn")


# ---------------------------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of every module that computes something cached (products, risk, advisor) and of the versions
    of the numerical libraries and Python: a changed method gives a new key, never a stale context."""
    h = hashlib.sha256(f"format {CACHE_FORMAT} python {platform.python_version()}".encode())
    for name in LIBRARIES:
        try:
            h.update(f"{name} {metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name} -".encode())
    root = Path(__file__).resolve().parents[1]
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative.startswith(SKIPPED_SOURCE):
                continue
            h.update(relative.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def source_fingerprint(data_dir: Path | None) -> str:
    """'demo' for the embedded universe; else a hash of every data file's path, size and mtime."""
    if data_dir is None:
        return "demo"
    h = hashlib.sha256(str(data_dir).encode())
    for dirpath, dirnames, filenames in os.walk(data_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath, name)
            stat = path.stat()
            h.update(f"{path.relative_to(data_dir)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _data_dir(data: str | os.PathLike[str] | None) -> Path | None:
    from products.loading import resolve_data_dir

    path = resolve_data_dir(data)
    return None if path is None else path.expanduser().resolve()


def cache_dir(data: str | os.PathLike[str] | None = None) -> Path:
    """Where the context of `data` is cached (see the module docstring)."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    path = _data_dir(data)
    if path is not None and (path / "manifest.json").exists():
        return path / BESIDE_DATA
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "advisor"


@dataclass(frozen=True)
class CacheKey:
    data_dir: Path | None
    source: str
    code: str

    @property
    def filename(self) -> str:
        return f"context-{self.source}-{self.code}.pkl"


def cache_key(data: str | os.PathLike[str] | None = None) -> CacheKey:
    path = _data_dir(data)
    return CacheKey(path, source_fingerprint(path), code_version())


# ---------------------------------------------------------------------------------------------
# what a context holds: each builder's per-universe memo
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Store:
    """A per-universe memo of some module: `weak` — a WeakKeyDictionary keyed by the universe;
    `weak_by_kind` — a dict of those; `by_id` — a dict keyed by tuples holding the universe's version and
    `id()`; `by_version` — a dict keyed by tuples starting with the universe's version; `thread` — this
    thread's attribute of a `threading.local` (compiled problems)."""

    name: str
    module: str
    attribute: str
    kind: str
    item: str = ""


STORES: tuple[Store, ...] = (
    Store("research", "products.research._common", "_CACHES", "weak_by_kind"),
    Store("assumptions", "advisor.assumptions", "_CACHE", "by_version"),
    Store("model_portfolios", "advisor.model_portfolios", "_CACHE", "by_id"),
    Store("selection", "advisor.selection", "_CACHE", "by_id"),
    Store("proposal", "advisor.proposal", "_CONTEXTS", "weak"),
    Store("diagnosis", "advisor.diagnosis.context", "_CONTEXTS", "weak"),
    Store("compiled_construction", "advisor.construction", "_LOCAL", "thread", "problems"),
)


def _target(store: Store) -> Any:
    try:
        return getattr(importlib.import_module(store.module), store.attribute)
    except (ImportError, AttributeError) as err:
        log.warning("context cache: %s.%s not found (%s); its part is not cached", store.module, store.attribute, err)
        return None


def _capture(store: Store, universe: Universe) -> Any:
    target = _target(store)
    if target is None:
        return None
    if store.kind == "weak":
        return target.get(universe)
    if store.kind == "weak_by_kind":
        return {kind: dict(memo[universe]) for kind, memo in target.items() if universe in memo}
    if store.kind == "by_id":
        return {key: value for key, value in target.items()
                if isinstance(key, tuple) and universe.version in key and id(universe) in key}
    if store.kind == "by_version":
        return {key: value for key, value in target.items()
                if isinstance(key, tuple) and key[:1] == (universe.version,)}
    if store.kind == "thread":
        return dict(getattr(target, store.item, {}))
    raise ValueError(f"unknown store kind {store.kind}")


def _restore(store: Store, universe: Universe, value: Any, old_id: int) -> None:
    if value is None:
        return
    target = _target(store)
    if target is None:
        return
    if store.kind == "weak":
        target[universe] = value
    elif store.kind == "weak_by_kind":
        for kind, entries in value.items():
            target.setdefault(kind, weakref.WeakKeyDictionary())[universe] = entries
    elif store.kind == "by_id":
        for key, entry in value.items():
            new_key = tuple(id(universe) if part == old_id and not isinstance(part, str) else part for part in key)
            target[new_key] = entry
    elif store.kind == "by_version":
        target.update(value)
    elif store.kind == "thread":
        current = target.__dict__.get(store.item)
        if current:  # problems this thread compiled already stay; the cached ones fill in the rest
            value.update(current)
        target.__dict__[store.item] = value


# ---------------------------------------------------------------------------------------------
# pickling: locks and thread-local state are re-created empty
# ---------------------------------------------------------------------------------------------

_LOCK_TYPES: dict[type, Callable[[], Any]] = {
    type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock,
}


def _new_object(cls: type) -> Any:
    return cls.__new__(cls)


def _mapping_proxy(values: dict) -> MappingProxyType:
    return MappingProxyType(values)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        maker = _LOCK_TYPES.get(type(obj))
        if maker is not None:
            return maker, ()
        if isinstance(obj, threading.local):
            return threading.local, ()
        if isinstance(obj, weakref.WeakKeyDictionary | weakref.WeakValueDictionary):
            return type(obj), ()
        if isinstance(obj, MappingProxyType):  # read-only views in frozen policies
            return _mapping_proxy, (dict(obj),)
        cvxpy = sys.modules.get("cvxpy")
        if cvxpy is not None and isinstance(obj, cvxpy.Problem):
            # a compiled problem keeps its compilation; the solver's own warm-start object is not picklable
            # and is only read with warm_start=True (construction solves cold): it is dropped
            return _new_object, (type(obj),), {**obj.__dict__, "_solver_cache": {}}
        return NotImplemented


def _dumps(payload: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dump(payload)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# build, save, load
# ---------------------------------------------------------------------------------------------

def warm(universe: Universe) -> dict[str, float]:
    """Compute everything per universe through the usual builders; seconds per part (a failing part is
    logged and left to be computed on first use)."""
    steps: dict[str, Callable[[], object]] = {
        "diagnosis_context": lambda: importlib.import_module("advisor.diagnosis").diagnosis_context(universe),
        "proposals": lambda: importlib.import_module("advisor.proposal").warm_up(universe),
        "leaderboard": lambda: importlib.import_module("products.research").leaderboard(universe),
        # the size-capped memos may have dropped this universe's entries while its proposal context lives on
        # (many universes in one process: tests, the walk-forward simulator): make sure they are there to save
        "model_portfolios": lambda: importlib.import_module("advisor.model_portfolios").build_model_portfolios(
            universe),
        "selections": lambda: [importlib.import_module("advisor.selection").select_funds(universe, level)
                               for level in range(1, 6)],
    }
    seconds: dict[str, float] = {}
    for name, step in steps.items():
        started = time.perf_counter()
        try:
            step()
        except Exception as err:  # a missing part is slower, never wrong
            log.warning("context cache: %s could not be built: %s", name, err)
        seconds[name] = round(time.perf_counter() - started, 2)
    return seconds


def build_cache(data: str | os.PathLike[str] | None = None, *, universe: Universe | None = None) -> dict[str, Any]:
    """Load the universe, compute its context and write the cache file; returns the file's metadata."""
    key = cache_key(data)
    started = time.perf_counter()
    if universe is None:
        from products.loading import load_universe

        universe = load_universe(key.data_dir)
    loaded = time.perf_counter()
    seconds = warm(universe)
    meta = _save(key, universe, {"load": round(loaded - started, 2), **seconds})
    _MEMO[key] = universe
    return meta


def _model_version() -> str:
    try:
        return str(importlib.import_module("advisor.model_portfolios").MODEL_VERSION)
    except (ImportError, AttributeError):
        return ""


def _save(key: CacheKey, universe: Universe, seconds: dict[str, float]) -> dict[str, Any]:
    stores = {store.name: _capture(store, universe) for store in STORES}
    # compiled solver problems go to a second file, read on first use: loading them imports cvxpy (~1 s),
    # which a request answered from the cached results never needs
    lazy = {name: stores.pop(name) for name in [s.name for s in STORES if s.kind == "thread"] if stores.get(name)}
    meta = {"format": CACHE_FORMAT, "source": key.source, "code_version": key.code,
            "data_dir": None if key.data_dir is None else str(key.data_dir), "universe_version": universe.version,
            "universe_as_of": str(universe.as_of), "universe_source": universe.source,
            "model_version": _model_version(), "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": seconds, "parts": sorted([*(k for k, v in stores.items() if v), *lazy])}
    folder = cache_dir(key.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / key.filename
    _write(_lazy_path(path), _dumps(lazy))
    payload = _dumps({"meta": meta, "universe": universe, "universe_id": id(universe), "stores": stores})
    _write(path, payload)
    meta["path"], meta["bytes"] = str(path), len(payload)
    _prune(folder)
    return meta


def _write(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def _lazy_path(path: Path) -> Path:
    return path.with_suffix(".compiled.pkl")


class _LazyCompiled(dict):
    """This thread's compiled problems, read from the cache's second file the first time one is looked up."""

    def __init__(self, path: Path, name: str):
        super().__init__()
        self._path, self._name, self._loaded = path, name, False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            parts = pickle.loads(self._path.read_bytes())
        except Exception as err:  # missing or unusable: problems are compiled on first use instead
            log.warning("compiled problems %s not loaded (%s)", self._path, err)
            return
        for key, value in (parts.get(self._name) or {}).items():
            self.setdefault(key, value)

    def __contains__(self, key: object) -> bool:
        self._load()
        return super().__contains__(key)

    def __getitem__(self, key: object) -> Any:
        self._load()
        return super().__getitem__(key)


def _prune(folder: Path) -> None:
    files = sorted(_context_files(folder), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in files[KEEP_FILES:]:
        stale.unlink(missing_ok=True)
        _lazy_path(stale).unlink(missing_ok=True)


def _context_files(folder: Path) -> list[Path]:
    return [p for p in folder.glob("context-*.pkl") if not p.name.endswith(".compiled.pkl")]


def load(key: CacheKey) -> tuple[Universe, dict[str, Any]] | None:
    """The cached universe with every builder's memo restored, or None when there is no (usable) file."""
    path = cache_dir(key.data_dir) / key.filename
    try:
        payload = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except Exception as err:  # a damaged or incompatible file is rebuilt
        log.warning("context cache %s unusable (%s); rebuilding", path, err)
        return None
    universe: Universe = payload["universe"]
    for store in STORES:
        if store.kind == "thread":
            _restore(store, universe, _LazyCompiled(_lazy_path(path), store.name), payload["universe_id"])
        else:
            _restore(store, universe, payload["stores"].get(store.name), payload["universe_id"])
    return universe, payload["meta"]


_MEMO: dict[CacheKey, Universe] = {}
_MEMO_LOCK = threading.Lock()


def warm_universe(data: str | os.PathLike[str] | None = None, *, build: bool = False) -> Universe:
    """The universe of `data` (a directory, or None for `ADVISOR_DATA_DIR` / the demo) with its research
    context: from this process's memory, else from the cache file, else loaded — and, with `build`,
    computed and saved for the next process."""
    key = cache_key(data)
    found = _MEMO.get(key)
    if found is not None:
        return found
    with _MEMO_LOCK:
        found = _MEMO.get(key)
        if found is not None:
            return found
        loaded = load(key)
        if loaded is not None:
            _MEMO[key] = loaded[0]
            return loaded[0]
        from products.loading import load_universe

        universe = load_universe(key.data_dir)
        if build:
            try:
                build_cache(key.data_dir, universe=universe)
            except OSError as err:  # a read-only cache directory: slower next time, not wrong
                log.warning("context cache not written (%s)", err)
        _MEMO[key] = universe
        return universe


def cached_files(data: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The cache files in the directory `data` uses, newest first, with their metadata."""
    folder = cache_dir(data)
    current = cache_key(data)
    rows = []
    for path in sorted(_context_files(folder), key=lambda p: p.stat().st_mtime, reverse=True):
        rows.append({"path": str(path), "bytes": path.stat().st_size, "current": path.name == current.filename,
                     "modified": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")})
    return rows


def clear(data: str | os.PathLike[str] | None = None) -> int:
    """Delete every cache file of the directory `data` uses; returns how many."""
    files = _context_files(cache_dir(data))
    for path in files:
        path.unlink(missing_ok=True)
        _lazy_path(path).unlink(missing_ok=True)
    _MEMO.clear()
    return len(files)
