"""Webhooks from the command line: subscribe, inspect deliveries, replay, and run the sender.

Every command takes --json. `microcred webhooks run` is the sender for installations that do not
run `microcred serve` (or turn its background sender off): once, or every few seconds until stopped.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from microcred.cli.consoles import err
from microcred.cli.options import TYPER
from microcred.cli.platform import JsonOpt, emit, platform
from microcred.errors import UsageError

webhooks_app = typer.Typer(
    **TYPER, help="Signed webhooks: who is told what, and what they answered.", no_args_is_help=True
)


def _organisation_id(built: Any, slug: str) -> int:
    with built.runtime.db.read() as repo:
        org = repo.organisation_by_slug(slug)
    if org is None:
        raise UsageError(f"no organisation {slug!r}")
    return int(org.id)


@webhooks_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The receiver: an https URL on a public address.")],
    org: Annotated[str, typer.Option("--org", help="The organisation's slug.")],
    event: Annotated[list[str] | None, typer.Option("--event", help="An event type (repeat); default: all.")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe a URL; prints the signing secret, this once."""
    from microcred.services.interop.webhooks import subscription_json

    built = platform()
    new = built.webhooks.subscribe(_organisation_id(built, org), url, event, description, "cli")
    emit(as_json, {**subscription_json(new.subscription), "secret": new.secret},
         f"subscribed {new.subscription.id} to {url}\nsigning secret (shown once): {new.secret}")  # fmt: skip


@webhooks_app.command("list")
def list_subscriptions(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscriptions, with their events."""
    from microcred.services.interop.webhooks import subscription_json

    built = platform()
    rows = built.webhooks.subscriptions(_organisation_id(built, org) if org else None)
    lines = [f"{r.id}  {'on ' if r.enabled else 'off'}  {r.url}  ({', '.join(subscription_json(r)['events'])})"
             for r in rows]  # fmt: skip
    emit(as_json, [subscription_json(r) for r in rows], "\n".join(lines) or "no webhook subscriptions")


@webhooks_app.command("deliveries")
def deliveries(
    subscription: Annotated[str, typer.Argument(help="A subscription id.")],
    state: Annotated[str | None, typer.Option("--state", help="pending, delivered or failed.")] = None,
    page: Annotated[int, typer.Option("--page", min=1)] = 1,
    as_json: JsonOpt = False,
) -> None:
    """A subscription's deliveries, newest first, 50 a page."""
    from microcred.services.interop.webhooks import delivery_json

    rows, total = platform().webhooks.deliveries(subscription, None, state=state, page=page)
    lines = [f"{r.id}  {r.event_type:22}  {r.state:9}  attempts {r.attempts}  last {r.last_status or '-'}"
             for r in rows]  # fmt: skip
    emit(as_json, {"items": [delivery_json(r) for r in rows], "total": total, "page": page},
         "\n".join([*lines, f"{total} in all"]))  # fmt: skip


@webhooks_app.command("replay")
def replay(delivery: Annotated[str, typer.Argument(help="A delivery id (msg_...).")], as_json: JsonOpt = False) -> None:
    """Send a delivery again now, under the same webhook-id."""
    attempt = platform().webhooks.replay(delivery, None, "cli")
    _emit_attempt(as_json, attempt)


@webhooks_app.command("test")
def ping(subscription: Annotated[str, typer.Argument(help="A subscription id.")], as_json: JsonOpt = False) -> None:
    """Send a webhook.test event now."""
    attempt = platform().webhooks.ping(subscription, None, "cli")
    _emit_attempt(as_json, attempt)


@webhooks_app.command("run")
def run(
    every: Annotated[float | None, typer.Option("--every", help="Seconds between rounds; default: one round.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find new events and send what is due (once, or every N seconds until interrupted)."""
    built = platform()
    try:
        while True:
            created, sent = built.webhooks.run_once()
            if every is None:
                emit(as_json, {"created": created, "attempts": sent}, f"{created} new deliveries, {sent} attempts")
                return
            if created or sent:
                err().print(f"{created} new deliveries, {sent} attempts", markup=False)
            time.sleep(every)
    except KeyboardInterrupt:
        return
    finally:
        built.close()


def _emit_attempt(as_json: bool, attempt: Any) -> None:
    from microcred.services.interop.webhooks import attempt_json

    emit(as_json, attempt_json(attempt), f"answered {attempt.status}" if attempt.status else f"failed: {attempt.error}")


def register(app: typer.Typer) -> None:
    app.add_typer(webhooks_app, name="webhooks")
