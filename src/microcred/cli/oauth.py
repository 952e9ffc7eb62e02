"""The applications registered for the Open Badges 3.0 API, from the command line (operators).

Applications register themselves (RFC 7591); an operator sees them here and can stop one: its secret
no longer authenticates and every learner's grant to it is revoked.
"""

from __future__ import annotations

from typing import Annotated

import typer

from microcred.cli.options import TYPER
from microcred.cli.platform import JsonOpt, emit, platform

oauth_app = typer.Typer(**TYPER, help="Applications using the Open Badges 3.0 API for learners.", no_args_is_help=True)


@oauth_app.command("clients")
def clients(as_json: JsonOpt = False) -> None:
    """Registered applications, with how many learners' grants each holds."""
    found = platform().oauth.clients()
    lines = [
        f"{c['client_id']}  {'active ' if c['active'] else 'stopped'}  {c['live_grants']:>4} grants  "
        f"{c['client_name']}  ({c['client_uri']})"
        for c in found
    ]
    emit(as_json, found, "\n".join(lines) or "no application has registered")


@oauth_app.command("remove")
def remove(
    client_id: Annotated[str, typer.Argument(help="The application's client_id (see `oauth clients`).")],
    as_json: JsonOpt = False,
) -> None:
    """Stop an application: its secret stops working and every grant it holds is revoked."""
    revoked = platform().oauth.remove_client(client_id, "cli")
    emit(as_json, {"client_id": client_id, "revoked_grants": revoked},
         f"stopped {client_id}; {revoked} learner grant(s) revoked")  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(oauth_app, name="oauth")
