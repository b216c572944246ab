"""The service refuses to start with a forgeable token secret or an exposed demo, and says why."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from advisor.cli import app as cli
from api.settings import DEV_JWT_SECRET, SettingsError, load_settings
from tests.api.live_server import REPO

STRONG = "a-real-secret-of-at-least-32-bytes-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("ADVISOR_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"jwt_secret": DEV_JWT_SECRET}, "public development secret"),
    ({"jwt_secret": DEV_JWT_SECRET, "demo": True, "host": "0.0.0.0"}, "binds only to this machine"),
    ({"demo": True, "host": "10.1.2.3"}, "binds only to this machine"),
    ({"jwt_secret": "6bytes"}, "at least 32"),
    ({"jwt_secret": "x" * 31}, "at least 32"),
    ({}, "ADVISOR_JWT_SECRET"),
    ({"jwt_secret": STRONG, "token_ttl_minutes": 600, "jwt_max_lifetime_minutes": 60}, "ADVISOR_TOKEN_TTL_MINUTES"),
])
def test_unsafe_configurations_are_refused_with_the_reason(overrides, reason):
    with pytest.raises(SettingsError, match=reason):
        load_settings(**overrides)


def test_safe_configurations_start():
    assert load_settings(jwt_secret=STRONG, host="0.0.0.0").verification_key == STRONG
    demo = load_settings(demo=True)  # an explicit demo on this machine may use the development secret
    assert demo.verification_key == DEV_JWT_SECRET and demo.host == "127.0.0.1"


def test_serve_with_data_is_not_a_demo_and_needs_a_secret(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--data", str(tmp_path), "--port", "8765"])
    assert result.exit_code == 2, result.output
    assert "refusing to start" in result.output and "ADVISOR_JWT_SECRET" in result.output
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8765"])  # the demo default
    assert result.exit_code == 2 and "binds only to this machine" in result.output


def test_server_module_refuses_the_development_secret_outside_a_demo():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(ADVISOR_JWT_SECRET=DEV_JWT_SECRET, ADVISOR_DEMO="false", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "api.server"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "public development secret" in done.stderr
