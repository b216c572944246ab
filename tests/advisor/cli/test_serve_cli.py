"""`advisor token` and `advisor serve`: dev tokens, demo seeding, and a served API that accepts them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import jwt
from typer.testing import CliRunner

from advisor.cli import app
from api.settings import DEV_JWT_SECRET
from tests.api.live_server import REPO, free_port

runner = CliRunner()


def test_token_mints_a_verifiable_jwt(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.delenv("ADVISOR_JWT_SECRET", raising=False)
    result = runner.invoke(app, ["token", "--role", "rm", "--sub", "rm-7", "--customers", "c1,c2"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    claims = jwt.decode(token, DEV_JWT_SECRET, algorithms=["HS256"], issuer="robo-advisor")
    assert claims["role"] == "rm" and claims["sub"] == "rm-7"
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT customer_id FROM rm_assignments WHERE rm_id = 'rm-7'")).all()
    assert sorted(r[0] for r in rows) == ["c1", "c2"]


def test_token_rejects_bad_role_and_subject():
    for args in (["--role", "admin", "--sub", "x"], ["--role", "ops", "--sub", "has space"],
                 ["--role", "customer", "--sub", "c1", "--customers", "c2"]):
        result = runner.invoke(app, ["token", *args])
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output


def test_serve_on_demo_default_seeds_and_prints_working_tokens(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(ADVISOR_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", ADVISOR_WARM_UP="false",
               PYTHONPATH=str(REPO), COLUMNS="400")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "advisor", "serve", "--port", str(port)], cwd=tmp_path,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(base + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        text = log.read_text()
        tokens = dict(re.findall(r"^\s*(customer|rm|ops) \S+.*?: (\S+\.\S+\.\S+)\s*$", text, flags=re.M))
        assert set(tokens) == {"customer", "rm", "ops"}, text
        profile = httpx.get(base + "/v1/customers/demo-c1/risk-profile",
                            headers={"Authorization": f"Bearer {tokens['customer']}"}, timeout=60)
        assert profile.status_code == 200 and profile.json()["level"].startswith("C")
        clients = httpx.get(base + "/v1/rm/clients", headers={"Authorization": f"Bearer {tokens['rm']}"},
                            timeout=180).json()
        assert {c["customer_id"] for c in clients["items"]} == {"demo-c1", "demo-c2", "demo-c3"}
        assert httpx.get(base + "/docs").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_serve_help_lists_options():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--data"):
        assert option in result.output


def test_serve_without_the_demo_says_how_to_get_tokens(monkeypatch, tmp_path):
    """No tokens are printed outside the demo, so the command says where they come from — and the command
    it names mints a token the server accepts."""
    import api.server
    from advisor.cli.serve import TOKENS_HINT
    from api.auth import principal_from_header
    from api.settings import load_settings

    secret = "s" * 40
    monkeypatch.setenv("ADVISOR_JWT_SECRET", secret)
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setattr(api.server, "run", lambda *args, **kwargs: None)  # configure, do not listen
    monkeypatch.setattr("api.app.create_app", lambda settings: None)
    result = runner.invoke(app, ["serve", "--no-demo", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert "advisor token --role customer --sub" in result.output and TOKENS_HINT[:40] in result.output
    minted = runner.invoke(app, ["token", "--role", "customer", "--sub", "c-77"])
    assert minted.exit_code == 0, minted.output
    principal = principal_from_header(load_settings(), f"Bearer {minted.stdout.strip().splitlines()[-1]}")
    assert principal.sub == "c-77"
