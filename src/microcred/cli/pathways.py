"""Pathways, CLR export and credit recognition from the command line. Each takes --json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from microcred.cli.consoles import err
from microcred.cli.options import TYPER
from microcred.cli.platform import JsonOpt, emit, platform
from microcred.errors import UsageError
from microcred.standards import safejson
from microcred.standards.jsontext import pretty

pathway_app = typer.Typer(
    **TYPER, help="Pathways: microcredentials that stack into a larger credential.", no_args_is_help=True
)
clr_app = typer.Typer(**TYPER, help="Comprehensive Learner Records (CLR 2.0).", no_args_is_help=True)
recognition_app = typer.Typer(**TYPER, help="Degree credit for microcredentials and pathways.", no_args_is_help=True)


def _json_file(path: Path) -> Any:
    try:
        return safejson.parse(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


@pathway_app.command("create")
def pathway_create(
    issuer: Annotated[str, typer.Option("--issuer", help="The issuer slug that awards the roll-up.")],
    from_file: Annotated[Path, typer.Option("--from", help="A JSON file: name, description, requirements ...")],
    as_json: JsonOpt = False,
) -> None:
    """Create a pathway (checked: no cycles, satisfiable); prints its id."""
    row = platform().pathways.create(issuer, _json_file(from_file))
    emit(as_json, {"id": row.id, "name": row.name, "microcredential": row.microcredential_id}, row.id)


@pathway_app.command("update")
def pathway_update(
    pathway_id: Annotated[str, typer.Argument()],
    from_file: Annotated[Path, typer.Option("--from", help="The new definition (JSON).")],
    as_json: JsonOpt = False,
) -> None:
    """Replace a pathway's definition (a new version)."""
    row = platform().pathways.update(pathway_id, _json_file(from_file))
    emit(as_json, {"id": row.id, "version": row.version}, f"{row.id} is now version {row.version}")


@pathway_app.command("list")
def pathway_list(as_json: JsonOpt = False) -> None:
    """List pathways."""
    rows = platform().pathways.rows()
    emit(as_json, [{"id": r.id, "name": r.name, "version": r.version} for r in rows],
         "\n".join(f"{r.id}\t{r.name}" for r in rows) or "no pathways")  # fmt: skip


@pathway_app.command("progress")
def pathway_progress(
    email: Annotated[str, typer.Option("--email", help="The learner.")],
    all_pathways: Annotated[bool, typer.Option("--all", help="Also pathways not started.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """A learner's progress on each pathway they have started: per element, what remains, in words."""
    from microcred.services.pathway_views import progress_json

    items = platform().pathways.progress(email, all_pathways=all_pathways)
    payload = [progress_json(item) for item in items]
    emit(as_json, payload, "\n\n".join(_human(p) for p in payload) or f"{email} has not started a pathway")


def _human(p: dict[str, Any]) -> str:
    state = "complete" if p["satisfied"] else f"{p['percent']:g}%"
    lines = [f"{p['name']} ({state})"]

    def walk(node: dict[str, Any], depth: int) -> None:
        lines.append(f"{'  ' * depth}{'✓' if node['satisfied'] else '·'} {node['explanation']}")
        for child in node["children"]:
            walk(child, depth + 1)

    walk(p["tree"], 1)
    lines += [f"  ! {problem}" for problem in p["order_problems"]]
    if p["roll_up"]:
        lines.append(f"  roll-up: {p['roll_up']['state']}" + (f" (flagged: {p['roll_up']['flagged']})"
                                                               if p["roll_up"]["flagged"] else ""))  # fmt: skip
    return "\n".join(lines)


@pathway_app.command("reevaluate")
def pathway_reevaluate(email: Annotated[str, typer.Option("--email")], as_json: JsonOpt = False) -> None:
    """Re-evaluate a learner now (issue, queue, flag or reinstate roll-ups); normally automatic."""
    events = platform().pathways.reevaluate(email, actor="cli")
    emit(as_json, {"email": email, "events": events}, "\n".join(events) or "nothing changed")


@pathway_app.command("evaluate-all")
def pathway_evaluate_all(
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Worker processes.")] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate every learner against every pathway (after creating or changing one); settles new completions."""
    import sys

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    built = platform()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err(), disable=as_json or not sys.stderr.isatty()) as bar:
        task = bar.add_task("evaluating learners", total=None)
        result = built.pathways.evaluate_all(
            workers=workers, progress=lambda n: bar.update(task, description=f"{n:,} learners evaluated")
        )
    payload = {"learners": result.learners, "evaluations": result.evaluations, "satisfied": result.satisfied,
               "newly_satisfied": result.newly_satisfied, "settled": result.settled}  # fmt: skip
    emit(as_json, payload, f"{result.learners:,} learners, {result.evaluations:,} evaluations, "
                           f"{result.newly_satisfied:,} newly satisfied, {result.settled:,} roll-ups settled")  # fmt: skip


def _decide(completion_id: str, approve: bool, note: str | None, as_json: bool) -> None:
    done = platform().pathways.decide(completion_id, approve, "cli", note)
    emit(as_json, {"id": done.id, "state": done.state, "award": done.award_id}, f"{done.id}: {done.state}")


@pathway_app.command("approve")
def pathway_approve(
    completion_id: Annotated[str, typer.Argument(help="A pending roll-up's id.")],
    note: Annotated[str | None, typer.Option("--note")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a pending roll-up: it is issued now."""
    _decide(completion_id, True, note, as_json)


@pathway_app.command("reject")
def pathway_reject(
    completion_id: Annotated[str, typer.Argument()],
    note: Annotated[str | None, typer.Option("--note")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a pending roll-up."""
    _decide(completion_id, False, note, as_json)


@clr_app.command("export")
def clr_export(
    email: Annotated[str, typer.Option("--email", help="The learner.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the signed ClrCredential (JSON).")],
    credential: Annotated[
        list[str] | None, typer.Option("--credential", help="Only these credentials (id or URL; repeatable).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="The learner's name for the record's title.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export a learner's record as a signed CLR 2.0 ClrCredential (verified before it is written)."""
    record = platform().clr.export_record(email, credential, name)
    clr = record.clr
    text = pretty(clr) + "\n"
    partial = out.with_name(out.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(out)  # never a half-written file
    subject = clr["credentialSubject"]
    payload = {"out": str(out), "id": clr["id"], "credentials": len(subject["verifiableCredential"]),
               "associations": len(subject.get("association", [])),
               "omitted": [{"name": o.name, "id": o.id, "reason": o.reason} for o in record.omitted]}  # fmt: skip
    left_out = "".join(f"\n  left out (does not verify): {o.name}: {o.reason}" for o in record.omitted)
    emit(
        as_json,
        payload,
        f"wrote {out}: {payload['credentials']} credentials, {payload['associations']} associations{left_out}",
    )


@recognition_app.command("add-rule")
def recognition_add_rule(
    issuer: Annotated[str, typer.Option("--issuer", help="The university's issuer slug.")],
    programme: Annotated[str, typer.Option("--programme")],
    course: Annotated[str, typer.Option("--course", help="The course code credit is given for.")],
    credits: Annotated[float, typer.Option("--credits")],
    microcredential: Annotated[str | None, typer.Option("--microcredential")] = None,
    pathway: Annotated[str | None, typer.Option("--pathway")] = None,
    grade_policy: Annotated[str, typer.Option("--grade-policy", help="pass-fail, transfer or none.")] = "pass-fail",
    as_json: JsonOpt = False,
) -> None:
    """Recognise a microcredential or a pathway as credit in a programme."""
    from microcred.services.recognition import RuleIn

    if (microcredential is None) == (pathway is None):
        raise UsageError("give exactly one of --microcredential and --pathway")
    target = {"microcredential": microcredential} if microcredential else {"pathway": pathway}
    rule = platform().recognition.add_rule(issuer, RuleIn(programme, course, credits, grade_policy, target))
    emit(as_json, {"id": rule.id, "programme": rule.programme, "course": rule.course_code}, str(rule.id))


def register(app: typer.Typer) -> None:
    app.add_typer(pathway_app, name="pathway")
    app.add_typer(clr_app, name="clr")
    app.add_typer(recognition_app, name="recognition")
