"""Operator commands of the issuing platform. Forms are a contract; each takes --json."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microcred import bootstrap
from microcred.cli.consoles import err, out
from microcred.cli.options import TYPER
from microcred.errors import InputError, UsageError
from microcred.standards import safejson
from microcred.standards.jsontext import pretty

if TYPE_CHECKING:
    from microcred.config import Settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ExemptOpt = Annotated[
    str | None,
    typer.Option("--exempt", help="Why it may be published without every EU mandatory element (audit-logged)."),
]

issuer_app = typer.Typer(**TYPER, help="Issuer profiles and keys.", no_args_is_help=True)
microcredential_app = typer.Typer(**TYPER, help="The microcredential catalogue.", no_args_is_help=True)
db_app = typer.Typer(**TYPER, help="Database migrations.", no_args_is_help=True)
awards_app = typer.Typer(**TYPER, help="Awarded credentials.", no_args_is_help=True)
token_app = typer.Typer(**TYPER, help="API tokens.", no_args_is_help=True)
vcapi_app = typer.Typer(**TYPER, help="The W3C VC-API: which issuers it signs for.", no_args_is_help=True)


def load_settings() -> Settings:
    from microcred.config import Settings

    return Settings()


def platform() -> bootstrap.Platform:
    return bootstrap.build_platform(load_settings())


def emit(as_json: bool, payload: Any, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        out().print(human, markup=False)


def init(as_json: JsonOpt = False) -> None:
    """Create the data directory, the key-encryption key and the first platform admin."""
    settings = load_settings()
    built = bootstrap.build_platform(settings, create=True)
    email = settings.admin_email or (None if as_json or not sys.stdin.isatty() else input("admin email: "))
    password = settings.admin_password or (
        None if as_json or not sys.stdin.isatty() else getpass.getpass("admin password: ")
    )
    created = None
    if email:
        if not password:
            raise UsageError("set MICROCRED_ADMIN_PASSWORD (or run interactively) to create the first admin")
        from microcred.services.issuing import Conflict

        try:
            created = built.accounts.create_user(email, password, "platform_admin").email
        except Conflict:
            created = None
    payload = {
        "data_dir": str(settings.data_dir),
        "database": _safe_url(settings.resolved_database_url),
        "admin": created,
    }
    emit(as_json, payload, f"initialised {settings.data_dir}" + (f"; platform admin {created}" if created else ""))


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOpt = False) -> None:
    """Apply every migration."""
    from microcred.storage.db import make_engine, upgrade

    settings = load_settings()
    upgrade(make_engine(settings.resolved_database_url))
    emit(as_json, {"upgraded": True}, "database is up to date")


@issuer_app.command("create")
def issuer_create(
    name: Annotated[str, typer.Option("--name")],
    slug: Annotated[str, typer.Option("--slug")],
    country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2, e.g. NL.")],
    url: Annotated[str | None, typer.Option("--url")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Slug of the parent organisation's issuer.")] = None,
    suite: Annotated[
        str, typer.Option("--suite", help="eddsa-rdfc-2022 (default) or eddsa-jcs-2022.")
    ] = "eddsa-rdfc-2022",
    did_method: Annotated[
        str, typer.Option("--did-method", help="web (default: rotatable keys) or key (the key is the DID).")
    ] = "web",
    vcapi: Annotated[bool, typer.Option("--vcapi", help="Let the VC-API sign for this issuer.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an issuer with a did:web (or did:key) identity and an Ed25519 key."""
    built = platform()
    issuer = built.issuers.create(
        name=name, slug=slug, country=country, url=url, email=email, description=description, parent=parent,
        suite=suite, did_method=did_method,
    )  # fmt: skip
    if vcapi:
        issuer = built.issuers.set_vcapi(slug, True)
    emit(as_json, {"slug": issuer.slug, "did": issuer.did, "name": issuer.name}, f"{issuer.slug} {issuer.did}")


@issuer_app.command("list")
def issuer_list(as_json: JsonOpt = False) -> None:
    """List issuers."""
    issuers = platform().issuers.list()
    emit(
        as_json,
        [{"slug": i.slug, "did": i.did, "name": i.name, "country": i.country_code} for i in issuers],
        "\n".join(f"{i.slug}\t{i.did}\t{i.name}" for i in issuers) or "no issuers",
    )


@issuer_app.command("rotate-key")
def issuer_rotate_key(slug: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Sign with a new key from now on; old keys stay in the DID document."""
    key_id = platform().issuers.rotate_key(slug)
    emit(as_json, {"slug": slug, "key_id": key_id}, f"{slug}: now signing with {key_id}")


@microcredential_app.command("create")
def microcredential_create(
    issuer: Annotated[str, typer.Option("--issuer", help="Issuer slug.")],
    from_file: Annotated[
        Path | None, typer.Option("--from", help="A JSON file with the microcredential's fields.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    criteria: Annotated[str | None, typer.Option("--criteria")] = None,
    skill: Annotated[list[str] | None, typer.Option("--skill", help="An ESCO skill URI (repeatable).")] = None,
    publish: Annotated[bool, typer.Option("--publish", help="Publish at once (else it is a draft).")] = False,
    exempt: ExemptOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a microcredential (a draft unless --publish); prints its id."""
    data = _definition_data(from_file, name, description, criteria, skill)
    from microcred.services.issuing import parse_definition

    if exempt and not publish:
        raise UsageError("--exempt goes with --publish")
    entry = platform().catalog.create(issuer, parse_definition(data), publish=publish, exemption=exempt)
    payload = {"id": entry.id, "issuer": entry.issuer_slug, "version": entry.version, "published": entry.published}
    emit(as_json, payload, entry.id)


@microcredential_app.command("publish")
def microcredential_publish(
    microcredential_id: Annotated[str, typer.Argument()], exempt: ExemptOpt = None, as_json: JsonOpt = False
) -> None:
    """Publish a draft: it enters the catalogue and can be awarded (needs every EU mandatory element, or --exempt)."""
    entry = platform().catalog.publish(microcredential_id, exempt, actor="cli")
    when = entry.published_at.isoformat() if entry.published_at else None
    emit(as_json, {"id": entry.id, "published": entry.published, "published_at": when}, f"{entry.id} is published")


@microcredential_app.command("image")
def microcredential_image(
    microcredential_id: Annotated[str, typer.Argument()],
    file: Annotated[Path, typer.Argument(help="A PNG or SVG, at most 2 MB.")],
    as_json: JsonOpt = False,
) -> None:
    """Upload a microcredential's badge image; later awards carry it."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror}") from exc
    media_type = platform().catalog.set_image(microcredential_id, data)
    emit(
        as_json, {"id": microcredential_id, "media_type": media_type}, f"{microcredential_id}: image set ({media_type})"
    )


def _definition_data(
    from_file: Path | None, name: str | None, description: str | None, criteria: str | None, skills: list[str] | None
) -> dict[str, Any]:
    if from_file is not None:
        if name or description or criteria or skills:
            raise UsageError("give either --from FILE or --name/--description/--criteria/--skill, not both")
        try:
            data = safejson.parse(from_file.read_bytes())
        except OSError as exc:
            raise UsageError(f"cannot read {from_file}: {exc.strerror}") from exc
        if not isinstance(data, dict):
            raise InputError(f"{from_file} must hold a JSON object")
        return data
    if not (name and description and criteria):
        raise UsageError("--name, --description and --criteria are required without --from")
    return {
        "name": name,
        "description": description,
        "criteria": criteria,
        "skills": [{"uri": s, "label": s.rsplit("/", 1)[-1]} for s in skills or []],
    }


def lint(microcredential_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Report which EU mandatory elements a microcredential is missing (exit 1 if any)."""
    missing = platform().catalog.lint(microcredential_id)
    emit(
        as_json,
        {"id": microcredential_id, "missing": missing, "complete": not missing},
        "complete: every EU mandatory element is present"
        if not missing
        else "missing EU elements:\n  " + "\n  ".join(missing),
    )
    raise typer.Exit(1 if missing else 0)


def award(
    microcredential: Annotated[str, typer.Option("--microcredential")],
    email: Annotated[str, typer.Option("--email")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    grade: Annotated[str | None, typer.Option("--grade")] = None,
    evidence_url: Annotated[str | None, typer.Option("--evidence-url")] = None,
    valid_until: Annotated[str | None, typer.Option("--valid-until")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the signed credential here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Award a microcredential to one learner; prints the credential id and URL."""
    from microcred.services.awarding import AwardRequest
    from microcred.standards.dates import parse_expiry

    try:
        until = parse_expiry(valid_until) if valid_until else None
    except InputError as exc:
        raise UsageError(f"--valid-until: {exc.message}") from exc
    outcome = platform().awards.award(
        AwardRequest(microcredential, email, name, external_id, evidence_url, None, grade, until)
    )
    if out_file is not None:
        out_file.write_text(pretty(outcome.credential), encoding="utf-8")
    note = "" if outcome.created else " (already awarded: nothing new issued)"
    emit(
        as_json, {"id": outcome.id, "url": outcome.url, "created": outcome.created}, f"{outcome.id} {outcome.url}{note}"
    )


def award_bulk(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (header row) or JSONL: email, name, external_id, evidence_url, narrative, grade, valid_until, microcredential."
        ),
    ],
    microcredential: Annotated[
        str | None, typer.Option("--microcredential", help="For rows without a microcredential column.")
    ] = None,
    errors: Annotated[
        Path | None, typer.Option("--errors", help="Write bad rows here (CSV: line, reason, row).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=64, help="Signing processes (default: CPU cores).")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=10_000, help="Rows per transaction.")] = 500,
    as_json: JsonOpt = False,
) -> None:
    """Award from a file: idempotent (a rerun issues nothing twice) and resumable."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    built = platform()
    columns = (
        TextColumn("[bold]awarding"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("issued {task.fields[issued]} · skipped {task.fields[skipped]} · failed {task.fields[failed]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err(), disable=as_json or not sys.stderr.isatty()) as bar:
        task = bar.add_task("award", total=None, issued=0, skipped=0, failed=0)

        def show(p: Any) -> None:
            bar.update(task, total=p.total, completed=p.processed, issued=p.issued, skipped=p.skipped, failed=p.failed)

        result = built.bulk.run(
            file,
            microcredential=microcredential,
            errors_path=errors,
            workers=workers,
            batch_size=batch_size,
            on_progress=show,
        )
    payload = {
        "job": result.job_id,
        "rows": result.processed,
        "issued": result.issued,
        "skipped": result.skipped,
        "failed": result.failed,
    }
    human = f"{result.issued} issued, {result.skipped} already issued (skipped), {result.failed} failed" + (
        f"; bad rows in {errors}" if errors and result.failed else ""
    )
    emit(as_json, payload, human)
    raise typer.Exit(1 if result.failed else 0)


@awards_app.command("list")
def awards_list(
    microcredential: Annotated[str | None, typer.Option("--microcredential")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List awards."""
    awards = platform().awards.list_awards(microcredential_id=microcredential, email=email, limit=limit, offset=offset)
    rows = [
        {"id": a.id, "email": a.recipient_email, "issued_at": a.issued_at.isoformat(), "status": _status(a)}
        for a in awards
    ]
    emit(
        as_json,
        rows,
        "\n".join(f"{r['id']}\t{r['email']}\t{r['issued_at']}\t{r['status']}" for r in rows) or "no awards",
    )


def _status(award: Any) -> str:
    if award.revoked_at is not None:
        return "revoked"
    return "suspended" if award.suspended else "active"


def _status_command(action: str) -> Any:
    def command(
        credential_id: Annotated[str, typer.Argument()],
        reason: Annotated[str | None, typer.Option("--reason")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        award_id = credential_id.rstrip("/").rsplit("/", 1)[-1]
        getattr(platform().awards, action)(award_id, reason)
        emit(
            as_json, {"id": award_id, "action": action}, f"{award_id}: {action}{'d' if action.endswith('e') else 'ed'}"
        )

    command.__doc__ = {
        "revoke": "Revoke an award (final).",
        "suspend": "Suspend an award.",
        "unsuspend": "Lift a suspension.",
    }[action]
    return command


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option("--email", help="The user the token acts for.")],
    role: Annotated[str | None, typer.Option("--role", help="Defaults to the user's role.")] = None,
    days: Annotated[int, typer.Option("--days")] = 90,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="Narrow the token: api, vc:issue, vc:status (repeat; default: everything)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API token (shown once)."""
    built = platform()
    user_role = role or built.accounts.role_of(email)
    token = built.accounts.create_token(email, user_role, days, scopes=scope)
    payload = {"token": token.token, "prefix": token.prefix, "role": token.role, "scopes": token.scopes}
    emit(as_json, payload, token.token)


@token_app.command("revoke")
def token_revoke(
    prefix: Annotated[str, typer.Argument(help="The token's first 12 characters (mct_...).")], as_json: JsonOpt = False
) -> None:
    """Revoke an API token."""
    platform().accounts.revoke_token(prefix)
    emit(as_json, {"prefix": prefix, "revoked": True}, f"{prefix}: revoked")


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64)] = 1,
    access_log: Annotated[
        bool,
        typer.Option("--access-log/--no-access-log", help="Log every request (off: a proxy in front usually does)."),
    ] = False,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="PEM certificate: serve https.")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key of --tls-cert.")] = None,
) -> None:
    """Serve the REST API, the VC-API, the web pages, DID documents, status lists and credentials."""
    import uvicorn

    settings = load_settings()
    check_serve_settings(settings, host, tls_cert, tls_key)
    platform().close()  # fail fast on a missing data directory or an outdated database
    uvicorn.run(
        "microcred.server:app_factory",
        factory=True, host=host, port=port, workers=workers, log_level="info", access_log=access_log,
        ssl_certfile=str(tls_cert) if tls_cert else None, ssl_keyfile=str(tls_key) if tls_key else None,
    )  # fmt: skip


def check_serve_settings(settings: Settings, host: str, tls_cert: Path | None, tls_key: Path | None) -> None:
    """Refuse the conformance-only switches off loopback, and half a TLS configuration."""
    from microcred.api.vcapi import is_loopback

    switches = [
        name
        for name, on in (
            ("MICROCRED_VCAPI_INSECURE_DEV", settings.vcapi_insecure_dev),
            ("MICROCRED_ALLOW_EXAMPLE_CONTEXTS", settings.allow_example_contexts),
        )
        if on
    ]
    if switches and not (host == "localhost" or is_loopback(host)):
        raise UsageError(f"{' and '.join(switches)} may only be used on loopback: bind --host 127.0.0.1 (or ::1)")
    if (tls_cert is None) != (tls_key is None):
        raise UsageError("give both --tls-cert and --tls-key")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise UsageError(f"no such file {path}")


@vcapi_app.command("issuers")
def vcapi_issuers(as_json: JsonOpt = False) -> None:
    """List the issuer DIDs the VC-API signs for (the `issuer` a caller must put in the credential)."""
    found = platform().vcapi.issuers()
    emit(
        as_json,
        found,
        "\n".join(f"{i['slug']}\t{i['did']}\t{i['verificationMethod']}" for i in found)
        or "no issuer is enabled for the VC-API (microcred vcapi enable SLUG)",
    )


@vcapi_app.command("enable")
def vcapi_enable(slug: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Let the VC-API sign for this issuer's DID."""
    issuer = platform().issuers.set_vcapi(slug, True)
    emit(as_json, {"slug": slug, "did": issuer.did, "vcapi": True}, f"{slug}: the VC-API signs for {issuer.did}")


@vcapi_app.command("disable")
def vcapi_disable(slug: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Stop the VC-API signing for this issuer (what it issued keeps its status lists)."""
    issuer = platform().issuers.set_vcapi(slug, False)
    emit(as_json, {"slug": slug, "did": issuer.did, "vcapi": False}, f"{slug}: no longer signed for by the VC-API")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("init")(init)
    app.command("lint")(lint)
    app.command("award")(award)
    app.command("award-bulk")(award_bulk)
    for action in ("revoke", "suspend", "unsuspend"):
        app.command(action)(_status_command(action))
    app.add_typer(issuer_app, name="issuer")
    app.add_typer(microcredential_app, name="microcredential")
    app.add_typer(db_app, name="db")
    app.add_typer(awards_app, name="awards")
    app.add_typer(token_app, name="token")
    app.add_typer(vcapi_app, name="vcapi")
