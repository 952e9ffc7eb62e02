"""Migrating an issuer from an Open Badges 2.0 platform (a Badgr export, OB 2.0 documents or a CSV of
awards): `--dry-run` first reports what would happen; running it re-issues, and running it again
changes nothing twice."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from microcred.cli.consoles import err
from microcred.cli.platform import JsonOpt, emit, platform


def migrate(
    source: Annotated[Path, typer.Argument(help="The export: Badgr/OB 2.0 JSON, or a CSV of awards.")],
    issuer: Annotated[str, typer.Option("--issuer", help="The issuer (slug) the badges move to.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would happen; change nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Re-issue another platform's badges as OB 3.0 credentials that cite the originals."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from microcred.cli.app import _read

    data = _read(str(source))
    built = platform()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err(), transient=True, disable=as_json or not sys.stderr.isatty()) as bar:
        task = bar.add_task("checking" if dry_run else "re-issuing", total=None)
        report = built.migration.migrate(
            issuer, data, dry_run=dry_run, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    payload = report.to_json()
    made = sum(1 for m in report.microcredentials if m["action"] in ("create", "created"))
    verb = "would issue" if dry_run else "issued"
    lines = [
        f"{'dry run: ' if dry_run else ''}{len(report.microcredentials)} badge classes "
        f"({made} {'to create' if dry_run else 'created'}), {verb} {report.issue} credentials, "
        f"{report.already} already issued, {len(report.skipped)} skipped"
    ]
    lines += [f"  skipped {s['where']}: {s['reason']}" for s in report.skipped[:50]]
    emit(as_json, payload, "\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
