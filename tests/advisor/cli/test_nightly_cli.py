"""`advisor demo-data customers --partitions`, `advisor nightly ...` and `advisor cache ...` end to end."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from advisor.cli import app
from advisor.nightly.outputs import read_output

runner = CliRunner()
DAY = "2026-02-13"


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_generate_a_partitioned_book_then_run_and_rerun(tmp_path):
    book, out = tmp_path / "book", tmp_path / "out"
    made = _json(runner.invoke(app, ["demo-data", "customers", "--n", "2500", "--seed", "5", "--partitions", "3",
                                     "--chunk-size", "1000", "--out", str(book), "--as-of", DAY, "--json"]))
    assert made["customers"] == 2500 and made["partitions"] == 3
    flat = _json(runner.invoke(app, ["demo-data", "customers", "--n", "2500", "--seed", "5", "--chunk-size", "1000",
                                     "--out", str(tmp_path / "flat"), "--as-of", DAY, "--json"]))
    assert flat["lots"] == made["lots"]  # the same customers, flat or partitioned
    ran = _json(runner.invoke(app, ["nightly", "run", "rebalance", "--book", str(book), "--out", str(out),
                                    "--as-of", DAY, "--scheduler", "none", "--option", "calendar=monthly",
                                    "--option", "turnover_cap=0.3", "--json"]))
    assert ran["complete"] and ran["ran"] == 3 and ran["failed"] == {}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["customers"] == 2500 and summary["trades"] == read_output(out, "trades").num_rows
    assert json.loads((out / "run.json").read_text())["options"] == {"calendar": "monthly", "turnover_cap": 0.3}
    again = _json(runner.invoke(app, ["nightly", "run", "rebalance", "--book", str(book), "--out", str(out),
                                      "--as-of", DAY, "--scheduler", "none", "--option", "calendar=monthly",
                                      "--option", "turnover_cap=0.3", "--json"]))
    assert again["ran"] == 0 and again["complete"]
    status = _json(runner.invoke(app, ["nightly", "status", str(out), "--json"]))
    assert status["state"] == "complete" and status["done"] == 3 and status["failed"] == {}


def test_a_failed_partition_exits_1_and_names_it(tmp_path):
    book, out = tmp_path / "book", tmp_path / "out"
    _json(runner.invoke(app, ["demo-data", "customers", "--n", "600", "--partitions", "2", "--out", str(book),
                              "--as-of", DAY, "--json"]))
    (book / "customers" / "part=1" / "part-0.parquet").write_bytes(b"garbage")
    result = runner.invoke(app, ["nightly", "run", "health_check", "--book", str(book), "--out", str(out),
                                 "--as-of", DAY, "--scheduler", "none"])
    assert result.exit_code == 1
    assert "partition 1 failed" in result.output and "run the same command again" in result.output
    status = _json(runner.invoke(app, ["nightly", "status", str(out), "--json"]))
    assert status["state"] == "failed" and list(status["failed"]) == ["1"] and status["done"] == 1


def test_partition_flat_files_and_bad_options(tmp_path):
    _json(runner.invoke(app, ["demo-data", "customers", "--n", "400", "--out", str(tmp_path), "--as-of", DAY,
                              "--json"]))
    made = _json(runner.invoke(app, ["nightly", "partition", "--customers", str(tmp_path / "customers.parquet"),
                                     "--holdings", str(tmp_path / "holdings.parquet"), "--out",
                                     str(tmp_path / "book"), "--json"]))
    assert made["customers"] == 400 and made["partitions"] == 1
    bad = runner.invoke(app, ["nightly", "run", "rebalance", "--book", str(tmp_path / "book"), "--out",
                              str(tmp_path / "o"), "--option", "turnover_cap=9"])
    assert bad.exit_code == 2 and "turnover_cap" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(app, ["nightly", "run", "health_check", "--book", str(tmp_path / "book"), "--out",
                              str(tmp_path / "o"), "--partitions", "x"])
    assert bad.exit_code == 2 and "--partitions" in bad.output
    bad = runner.invoke(app, ["nightly", "run", "health_check", "--book", str(tmp_path / "nothing"), "--out",
                              str(tmp_path / "o")])
    assert bad.exit_code == 2 and "does not exist" in " ".join(bad.output.split())
    jobs = _json(runner.invoke(app, ["nightly", "jobs", "--json"]))
    assert {"health_check", "rebalance"} <= {job["name"] for job in jobs}


def test_cache_build_show_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    shown = _json(runner.invoke(app, ["cache", "show", "--json"]))
    assert shown["present"] is False and shown["cache_dir"] == str(tmp_path)
    built = _json(runner.invoke(app, ["cache", "build", "--json"]))
    assert built["universe_source"] == "demo" and built["bytes"] > 0
    shown = _json(runner.invoke(app, ["cache", "show", "--json"]))
    assert shown["present"] is True and shown["files"][0]["current"]
    proposal = _json(runner.invoke(app, ["propose", "--level", "C2", "--amount", "50000", "--horizon-years", "2",
                                         "--json"]))
    assert proposal["lines"] and pd.Series([line["amount"] for line in proposal["lines"]]).gt(0).all()
    cleared = _json(runner.invoke(app, ["cache", "clear", "--json"]))
    assert cleared["removed"] == 1
