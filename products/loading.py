"""One entry point to a universe: the embedded demo, the canonical Parquet layout, or the shared layout.

`load_universe(None)` reads `ADVISOR_DATA_DIR`; with nothing configured it builds the deterministic demo
universe, so a fresh install runs every command. A directory with `manifest.json` is the canonical
layout (`products.canonical`); a directory with `cn_funds/` is the shared raw layout
(`products.sources.shared`), and a directory with `funds.csv` + `fund_nav_daily.csv` the small fixture
layout (`products.sources.fixture`); both are converted on the fly. Results are cached per path and modification time.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from products.errors import DataError
from products.universe import Universe

DATA_DIR_ENV = "ADVISOR_DATA_DIR"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    if data_dir is None or str(data_dir) == "":
        env = os.environ.get(DATA_DIR_ENV, "").strip()
        return Path(env) if env else None
    return Path(data_dir)


def load_universe(data_dir: str | os.PathLike[str] | None = None) -> Universe:
    """The universe at `data_dir` (or `ADVISOR_DATA_DIR`, or the demo); cached, immutable."""
    path = resolve_data_dir(data_dir)
    if path is None:
        return _demo()
    path = path.expanduser().resolve()
    if not path.exists():
        raise DataError(f"data directory {path} does not exist", code="data_missing", details={"path": str(path)})
    return _load_path(str(path), _modified(path))


def _modified(path: Path) -> int:
    """Cache key: the directory's mtime, or the manifest's (rewritten by every canonical export in place)."""
    manifest = path / "manifest.json"
    stamps = [path.stat().st_mtime_ns]
    if manifest.exists():
        stamps.append(manifest.stat().st_mtime_ns)
    return max(stamps)


@lru_cache(maxsize=1)
def _demo() -> Universe:
    from products.demo import demo_universe

    return demo_universe()


@lru_cache(maxsize=4)
def _load_path(path_str: str, _mtime: int) -> Universe:
    path = Path(path_str)
    if (path / "manifest.json").exists():
        from products.canonical import read_canonical

        return read_canonical(path)
    if (path / "cn_funds").is_dir():
        from products.sources.shared import load_shared_layout

        return load_shared_layout(path)
    from products.sources.fixture import is_fixture_layout, load_fixture_layout

    if is_fixture_layout(path):
        return load_fixture_layout(path)
    raise DataError(
        f"{path} is neither a canonical data directory (manifest.json), the shared layout (cn_funds/) nor "
        "the fixture layout (funds.csv + fund_nav_daily.csv)",
        code="data_unrecognized", details={"path": str(path)},
    )
