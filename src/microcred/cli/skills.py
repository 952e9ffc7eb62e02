"""Skills intelligence from the command line: taxonomy search and extraction, job roles, matching, gaps, plans.

Every command takes --json. The taxonomy attribution is printed to stderr wherever skills are shown,
so JSON on stdout stays what other tools parse.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from microcred.cli.consoles import err
from microcred.cli.options import TYPER
from microcred.cli.platform import JsonOpt, emit, platform
from microcred.errors import UsageError

if TYPE_CHECKING:
    from microcred.services.accounts import Principal

skills_app = typer.Typer(
    **TYPER, help="The skills taxonomy (ESCO + O*NET) and learners' verified skills.", no_args_is_help=True
)
role_app = typer.Typer(**TYPER, help="Job roles: what an employer needs, as weighted skills.", no_args_is_help=True)
catalogue_app = typer.Typer(**TYPER, help="Search the catalogue of microcredentials.", no_args_is_help=True)
RoleOpt = Annotated[int | None, typer.Option("--role", help="A job role id.")]
OccupationOpt = Annotated[str | None, typer.Option("--occupation", help="An ESCO occupation URI.")]


def _operator() -> Principal:
    from microcred.services.accounts import Principal

    return Principal("cli", "platform_admin", None)


def _attribution(lines: list[str]) -> None:
    err().print(" ".join(lines), style="dim", soft_wrap=True, markup=False)


def _read_text(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {source}: {exc}") from exc


@skills_app.command("search")
def skills_search(
    text: Annotated[str, typer.Argument(help="Words of a skill or tool; typos are forgiven.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 10,
    framework: Annotated[str | None, typer.Option("--framework", help="ESCO or O*NET.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find skills by label or alternative label."""
    from microcred.services.taxonomy import hit_json

    p = platform()
    hits = [hit_json(h) for h in p.taxonomy.search(text, limit, framework)]
    emit(as_json, hits, "\n".join(f"{h['label']} ({h['framework']})\t{h['uri']}" for h in hits) or "no skills found")
    _attribution(p.taxonomy.attribution)


@skills_app.command("extract")
def skills_extract(
    source: Annotated[str, typer.Argument(help="A job advertisement: a UTF-8 text file, or - for stdin.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 30,
    semantic: Annotated[
        bool | None, typer.Option("--semantic/--lexical", help="Also match by embeddings ([semantic] extra).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The skills a job advertisement asks for, best first, each with URI, label and score."""
    from microcred.services.taxonomy import hit_json

    p = platform()
    hits = [hit_json(h) for h in p.taxonomy.extract(_read_text(source), limit, semantic=semantic)]
    emit(as_json, hits, "\n".join(f"{h['score']:.2f}  {h['label']} ({h['framework']})\t{h['uri']}" for h in hits) or "no skills found")  # fmt: skip
    _attribution(p.taxonomy.attribution)


@skills_app.command("occupations")
def skills_occupations(
    text: Annotated[str, typer.Argument()], limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 10,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Find ESCO occupations (their URIs are what --occupation takes)."""
    p = platform()
    found = [{"uri": o.uri, "label": o.label, "code": o.code, "essential": len(o.essential), "optional": len(o.optional)}
             for o in p.taxonomy.search_occupations(text, limit)]  # fmt: skip
    emit(as_json, found, "\n".join(f"{o['label']} ({o['code']})\t{o['uri']}" for o in found) or "no occupations found")
    _attribution(p.taxonomy.attribution)


@skills_app.command("import")
def skills_import(
    esco: Annotated[Path, typer.Argument(help="A folder with the ESCO CSV files (skills, occupations, relations).")],
    onet: Annotated[Path | None, typer.Option("--onet", help="A folder with O*NET's technology skills CSV.")] = None,
    release: Annotated[str, typer.Option("--release", help="A name for the release.")] = "imported ESCO release",
    as_json: JsonOpt = False,
) -> None:
    """Load a newer taxonomy release; it replaces the one in use only once it has been read in full."""
    from rich.progress import Progress

    p = platform()
    with Progress(console=err(), transient=True, disable=as_json or not sys.stderr.isatty()) as bar:
        task = bar.add_task("reading", total=None)
        summary = p.taxonomy.import_release(esco, onet, release, lambda step: bar.update(task, description=step))
    payload = {"release": summary.release, "skills": summary.skills, "tools": summary.tools,
               "occupations": summary.occupations, "path": summary.path}  # fmt: skip
    emit(
        as_json,
        payload,
        f"{summary.release}: {summary.skills} skills, {summary.tools} tools, {summary.occupations} occupations",
    )


@skills_app.command("profile")
def skills_profile(email: Annotated[str, typer.Option("--email")], as_json: JsonOpt = False) -> None:
    """A learner's verified skills, each with the credentials that prove it."""
    p = platform()
    now = p.runtime.clock.now()
    skills = p.skills.profile(email)
    payload: list[dict[str, Any]] = [
        {"skill": s.uri, "label": s.label, "framework": s.framework, "freshness": s.freshness(now),
         "credentials": [{"name": e.name, "issuer": e.issuer_name, "issued": e.issued_at.isoformat(),
                          "expires": e.expires_at.isoformat() if e.expires_at else None, "source": e.source,
                          "discoverable": e.discoverable} for e in s.evidence]}
        for s in skills
    ]  # fmt: skip
    emit(as_json, payload, "\n".join(f"{s['label']} ({s['freshness']}): " + ", ".join(c["name"] for c in s["credentials"]) for s in payload) or f"{email} has no verified skills")  # fmt: skip
    _attribution(p.taxonomy.attribution)


@skills_app.command("reindex")
def skills_reindex(as_json: JsonOpt = False) -> None:
    """Rebuild every learner's rows of the skill index (after an import, or to repair)."""
    from rich.progress import Progress

    p = platform()
    with Progress(console=err(), transient=True, disable=as_json or not sys.stderr.isatty()) as bar:
        task = bar.add_task("learners", total=None)
        rows = p.skills.reindex(lambda email: bar.update(task, advance=1, description=email))
    emit(as_json, {"rows": rows}, f"{rows} skill rows written")


@role_app.command("create")
def role_create(
    org: Annotated[str, typer.Option("--org", help="The employer organisation's slug.")],
    title: Annotated[str | None, typer.Option("--title")] = None,
    occupation: OccupationOpt = None,
    skill: Annotated[list[str] | None, typer.Option("--skill", help="A skill URI (repeat the option).")] = None,
    from_text: Annotated[str | None, typer.Option("--from-text", help="A job advertisement file, or -.")] = None,
    essential_only: Annotated[bool, typer.Option("--essential-only", help="With --occupation: no optional skills.")] = False,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Define a job role from an ESCO occupation, a list of skills, or a pasted job advertisement."""
    from microcred.services.job_roles import RoleSkillIn

    if sum(x is not None and x != [] for x in (occupation, skill, from_text)) != 1:
        raise UsageError("give exactly one of --occupation, --skill and --from-text")
    p = platform()
    description = None
    if occupation:
        skills, source = p.roles.from_occupation(occupation, with_optional=not essential_only), "occupation"
        title = title or p.taxonomy.occupation(occupation).label
    elif skill:
        skills, source = [RoleSkillIn(uri=uri) for uri in skill], "skills"
    else:
        description = _read_text(from_text or "-")
        skills, source = p.roles.from_text(description), "text"
    if not title:
        raise UsageError("--title is needed unless the role comes from an occupation")
    role = p.roles.create(
        _operator(), org, title, skills, description=description, occupation_uri=occupation, source=source
    )
    emit(as_json, role.json(), f"role {role.id}: {role.title} ({len(role.skills)} skills)")
    _attribution(p.taxonomy.attribution)


@role_app.command("list")
def role_list(as_json: JsonOpt = False) -> None:
    """Every job role."""
    roles = platform().roles.list(_operator())
    emit(as_json, [r.json() for r in roles], "\n".join(f"{r.id}\t{r.title}\t{len(r.skills)} skills" for r in roles) or "no roles")  # fmt: skip


@role_app.command("show")
def role_show(role_id: Annotated[int, typer.Argument()], as_json: JsonOpt = False) -> None:
    """A job role and its weighted skills."""
    role = platform().roles.get(_operator(), role_id)
    lines = [f"{role.title} ({role.source})"] + [
        f"  {'essential' if s.essential else 'optional '} {s.importance}  {s.label}" for s in role.skills
    ]
    emit(as_json, role.json(), "\n".join(lines))


def match(
    role: Annotated[int, typer.Option("--role", help="The job role id.")],
    country: Annotated[str | None, typer.Option("--country")] = None,
    issuer: Annotated[str | None, typer.Option("--issuer", help="Only credentials from this issuer (DID or name).")] = None,
    credential_type: Annotated[str | None, typer.Option("--type", help="Only this achievementType.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 20,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the shortlist to this CSV file.")] = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Discoverable learners ranked by verified coverage of a role's skills, with the evidence."""
    p = platform()
    filters: dict[str, Any] = {"country": country, "issuer": issuer, "achievement_type": credential_type}
    result = p.talent.match(_operator(), role, limit=limit, **filters)
    if csv_file is not None:
        csv_file.write_text(p.talent.shortlist_csv(_operator(), role, **filters), encoding="utf-8")
    payload = {"role": result.role.title, "total": result.total, "candidates": [c.json() for c in result.candidates]}
    lines = [f"{result.total} candidates for {result.role.title}"] + [
        f"{n}. {c.name} {c.score:.0%} ({c.covered}/{len(result.role.skills)} skills)"
        for n, c in enumerate(result.candidates, 1)
    ]
    emit(as_json, payload, "\n".join(lines))
    _attribution(p.taxonomy.attribution)


def gap(
    email: Annotated[str, typer.Option("--email")], role: RoleOpt = None, occupation: OccupationOpt = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """The skills of a role or occupation a learner has proven, and the ones still missing."""
    p = platform()
    result = p.learning.gap(email, p.learning.target(_operator(), role_id=role, occupation=occupation))
    lines = [f"{result.target.title}: {len(result.covered)} covered, {len(result.missing)} missing"]
    lines += [f"  ✓ {label}" for _u, label, _e, _s in result.covered]
    lines += [f"  · {label}{' (essential)' if e else ''}" for _u, label, e, _w in result.missing]
    emit(as_json, result.json(), "\n".join(lines))
    _attribution(p.taxonomy.attribution)


def recommend(
    email: Annotated[str, typer.Option("--email")], role: RoleOpt = None, occupation: OccupationOpt = None,
    minimize: Annotated[str, typer.Option("--minimize", help="price or hours.")] = "price",
    budget: Annotated[float | None, typer.Option("--budget", help="The most the plan may cost.")] = None,
    max_hours: Annotated[float | None, typer.Option("--max-hours", help="The most hours the plan may take.")] = None,
    essential_only: Annotated[bool, typer.Option("--essential-only")] = False,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """The cheapest (or shortest) set of microcredentials that closes the learner's gap, solved exactly."""
    from microcred.domain.learning_plan import Measure
    from microcred.services.learning import plan_json

    if minimize not in ("price", "hours"):
        raise UsageError("--minimize takes price or hours")
    p = platform()
    target = p.learning.target(_operator(), role_id=role, occupation=occupation)
    measure = cast("Measure", minimize)
    found_gap, plan = p.learning.recommend(
        email, target, minimize=measure, budget=budget, max_hours=max_hours, essential_only=essential_only
    )
    payload = plan_json(plan, found_gap, p.learning.catalogue(), measure)
    lines = [f"{target.title}: {len(plan.offers)} microcredentials, {payload['totalPrice']:g} total price, "
             f"{payload['totalHours']:g} hours ({'proven optimal' if plan.optimal else plan.method})"]  # fmt: skip
    for item in payload["microcredentials"]:
        lines.append(f"  {item['name']} ({item['provider']}): " + ", ".join(c["label"] for c in item["covers"]))
    lines += [f"  not covered: {u['label']}" for u in payload["uncovered"]]
    emit(as_json, payload, "\n".join(lines))
    _attribution(p.taxonomy.attribution)


@catalogue_app.command("search")
def catalogue_search(
    text: Annotated[str | None, typer.Argument()] = None,
    skill: Annotated[str | None, typer.Option("--skill", help="A skill URI or words of a skill.")] = None,
    max_price: Annotated[float | None, typer.Option("--max-price")] = None,
    max_hours: Annotated[float | None, typer.Option("--max-hours")] = None,
    level: Annotated[int | None, typer.Option("--level", min=1, max=8, help="EQF level.")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    provider: Annotated[str | None, typer.Option("--provider")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="online, onsite or blended.")] = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Microcredentials by text, skill, price, duration, level, language, provider and delivery mode."""
    from microcred.services.learning import CatalogueFilter

    items = platform().learning.search_catalogue(
        CatalogueFilter(text, skill, max_price, max_hours, level, language, provider, mode)
    )
    payload = [
        {"id": i.offer.id, "name": i.offer.name, "provider": i.offer.provider, "price": i.offer.price,
         "currency": i.offer.currency, "hours": i.offer.hours, "level": i.offer.level, "language": i.offer.language,
         "mode": i.offer.delivery_mode, "skills": sorted(i.offer.skills)}
        for i in items
    ]  # fmt: skip
    emit(as_json, payload, "\n".join(f"{i['name']} ({i['provider']}) {i['price']} {i['currency'] or ''} {i['hours']} h" for i in payload) or "nothing matches")  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(skills_app, name="skills")
    app.add_typer(role_app, name="role")
    app.add_typer(catalogue_app, name="catalogue")
    app.command("match")(match)
    app.command("gap")(gap)
    app.command("recommend")(recommend)
