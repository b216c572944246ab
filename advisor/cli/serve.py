"""CLI commands: `advisor serve` (the API under uvicorn) and `advisor token` (development JWTs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from advisor.cli.common import DataOption, console, handle_errors

TOKENS_HINT = ("tokens: requests need `Authorization: Bearer <token>` from the bank's identity provider "
               "(signed with ADVISOR_JWT_SECRET or the key of ADVISOR_JWT_PUBLIC_KEY); for a test, mint one with "
               "`advisor token --role customer --sub <customer id>` (or --role rm --sub <rm id> --customers <ids>) "
               "on a machine that has the same secret or private key — see docs/api.md, Running and Authorization")


def _settings(data: Path | None, database_url: str | None = None, **overrides: object):
    """Settings from ADVISOR_* plus the command's options; a refused configuration is a usage error
    naming the setting and the reason."""
    from api.settings import load_settings
    from products.errors import BadInputError

    if data is not None:
        overrides["data_dir"] = data
    if database_url:
        overrides["database_url"] = database_url
    try:
        return load_settings(**overrides)
    except ValueError as err:
        raise BadInputError(f"refusing to start: {err}") from None


def _demo_default(demo: bool | None, otherwise: bool) -> bool:
    """An explicit --demo/--no-demo wins, then ADVISOR_DEMO, then the command's own default."""
    import os

    if demo is not None:
        return demo
    if "ADVISOR_DEMO" in os.environ:
        return os.environ["ADVISOR_DEMO"].strip().lower() in ("1", "true", "yes", "on")
    return otherwise


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""

    @app.command("serve")
    @handle_errors
    def serve(
        data: DataOption = None,
        host: Annotated[str, typer.Option(help="Interface to bind (127.0.0.1 = this machine only).")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
        database_url: Annotated[str | None, typer.Option(
            "--database-url", envvar="ADVISOR_DATABASE_URL", help="SQLAlchemy URL; default sqlite:///./advisor.db")]
        = None,
        workers: Annotated[int, typer.Option(min=1, max=32, help="uvicorn worker processes.")] = 1,
        demo: Annotated[bool | None, typer.Option(
            "--demo/--no-demo", help="Local demo: development secret, demo customers and printed tokens, "
                                     "127.0.0.1 only. Default: on for the embedded demo universe, off with --data.")]
        = None,
    ) -> None:
        """Run the API (OpenAPI at /docs). On the demo default it seeds demo customers and prints tokens;
        otherwise it needs ADVISOR_JWT_SECRET (32+ bytes) or ADVISOR_JWT_PUBLIC_KEY."""
        from api.app import build_state, create_app
        from api.auth import mint_token
        from api.demo_seed import DEMO_RM, seed_demo
        from api.server import run

        settings = _settings(data, database_url, host=host, port=port, demo=_demo_default(demo, data is None))
        if settings.demo and settings.data_dir is None:
            state = build_state(settings.model_copy(update={"warm_up": False}))
            customers = seed_demo(state)
            state.engine.dispose()
            ttl = 12 * 60
            console.print("[bold]demo tokens[/] (valid 12 h; send as `Authorization: Bearer <token>`):")
            # soft_wrap: a token must stay on one line to be copied whole, whatever the terminal width
            console.print(f"  customer {customers[0]}: {mint_token(settings, 'customer', customers[0], ttl)}",
                          soft_wrap=True)
            console.print(f"  rm {DEMO_RM} ({', '.join(customers)}): {mint_token(settings, 'rm', DEMO_RM, ttl)}",
                          soft_wrap=True)
            console.print(f"  ops demo-ops: {mint_token(settings, 'ops', 'demo-ops', ttl)}", soft_wrap=True)
        else:  # no tokens printed: say where they come from
            console.print(TOKENS_HINT)
        console.print(f"serving on http://{host}:{port}  (docs: http://{host}:{port}/docs, "
                      f"RM workspace: http://{host}:{port}/rm/login)")
        if workers > 1:  # worker processes read their settings from the environment
            import os

            os.environ.update(ADVISOR_HOST=host, ADVISOR_PORT=str(port), ADVISOR_DEMO=str(settings.demo).lower())
            if data is not None:
                os.environ["ADVISOR_DATA_DIR"] = str(data)
            if database_url:
                os.environ["ADVISOR_DATABASE_URL"] = database_url
            run(settings, workers)
        else:
            run(settings, 1, create_app(settings))

    @app.command("token")
    @handle_errors
    def token(
        role: Annotated[str, typer.Option(help="customer, rm or ops.")],
        sub: Annotated[str, typer.Option(help="Subject: the customer id, RM id or operator id.")],
        customers: Annotated[list[str] | None, typer.Option(
            "--customers", help="rm only: assign these customers (comma separated or repeated) in the database.")]
        = None,
        ttl_minutes: Annotated[int | None, typer.Option(min=1, max=7 * 24 * 60, help="Lifetime in minutes.")]
        = None,
        database_url: Annotated[str | None, typer.Option(
            "--database-url", envvar="ADVISOR_DATABASE_URL", help="Where RM assignments are recorded.")] = None,
    ) -> None:
        """Mint a development JWT (signed with ADVISOR_JWT_SECRET or the demo secret)."""
        import re

        from api.auth import SUBJECT_PATTERN, Role, mint_token
        from products.errors import BadInputError

        if role not in {r.value for r in Role}:
            raise BadInputError(f"--role: expected customer, rm or ops, got {role!r}", details={"field": "role"})
        if not re.fullmatch(SUBJECT_PATTERN, sub):
            raise BadInputError("--sub: 1–64 letters, digits, _ . -", details={"field": "sub"})
        ids = [c.strip() for item in (customers or []) for c in item.split(",") if c.strip()]
        bad = [c for c in ids if not re.fullmatch(SUBJECT_PATTERN, c)]
        if bad:
            raise BadInputError(f"--customers: invalid id(s) {', '.join(bad)}", details={"field": "customers"})
        if ids and role != Role.RM:
            raise BadInputError("--customers: only for --role rm", details={"field": "customers"})
        import os

        # without a configured key, a development token is signed with the demo secret (a local demo server)
        configured = any(os.environ.get(k) for k in ("ADVISOR_JWT_SECRET", "ADVISOR_JWT_PRIVATE_KEY"))
        settings = _settings(None, database_url, demo=_demo_default(None, not configured))
        if ids:
            from api import repositories
            from api.db import engine_for, make_session_factory, migrate

            engine = engine_for(settings)
            migrate(engine)
            with make_session_factory(engine)() as session:
                for cid in ids:
                    repositories.assign(session, sub, cid)
                session.commit()
            engine.dispose()
            console.print(f"assigned {len(ids)} customer(s) to {sub}")
        try:
            typer.echo(mint_token(settings, role, sub, ttl_minutes))
        except ValueError as err:  # e.g. RS256 without ADVISOR_JWT_PRIVATE_KEY
            raise BadInputError(f"settings: {err}") from None
