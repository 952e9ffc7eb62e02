"""The `microcred` command line. Forms are a contract: other tools call them."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from inspect import getdoc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from microcred import bootstrap
from microcred.cli import fanout
from microcred.cli import migrate as migrate_commands
from microcred.cli import oauth as oauth_commands
from microcred.cli import pathways as pathway_commands
from microcred.cli import platform as platform_commands
from microcred.cli import skills as skill_commands
from microcred.cli import webhooks as webhook_commands
from microcred.cli.consoles import err, escape, out
from microcred.cli.options import TYPER, instant
from microcred.errors import InputError, MicrocredError, UsageError
from microcred.standards import safejson
from microcred.standards.jsontext import pretty

if TYPE_CHECKING:
    from microcred.standards.keys import Ed25519KeyPair

# Every command imports what it needs when it runs: `microcred --help` loads typer and nothing else.
app = typer.Typer(**TYPER, no_args_is_help=True, help="Issue, hold and verify Open Badges 3.0 microcredentials.")

EXIT_OK, EXIT_NOT_VERIFIED, EXIT_USAGE = 0, 1, 2

ResourceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--resource", help="URL=FILE: supply a document (context, DID document, status list) for this command."
    ),
]


def _resources(pairs: list[str] | None) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for pair in pairs or []:
        url, sep, path = pair.partition("=")
        if not sep or not url or not path:
            raise UsageError(f"--resource needs URL=FILE, got {pair!r}")
        try:
            found[url] = Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(f"--resource {url}: cannot read {path}: {exc.strerror}") from exc
    return found


def _service(resources: list[str] | None, *, offline: bool = True) -> Any:
    return _service_and_local(resources, offline=offline)[0]


def _service_and_local(resources: list[str] | None, *, offline: bool = True) -> tuple[Any, Any]:
    """The credential service, and this installation's documents when it reads them (a database
    connection: the service is then not forked)."""
    from microcred import environment

    local = _local_documents()
    options = bootstrap.Options(
        _resources(resources), allow_fetch=not offline, local=local,
        inline_contexts=environment.flag("inline_contexts", True),
    )  # fmt: skip
    return bootstrap.build_credential_service(options), local


def _local_documents() -> Any:
    """This installation's issuers and status lists, when run against its data directory."""
    from microcred import environment

    if environment.value("database_url") is None and not (environment.data_dir() / "microcred.db").exists():
        return None
    return bootstrap.build_platform().local


_MAX_INPUT = 11 * 1024 * 1024  # 10 MB and some room for whitespace


def _read(source: str) -> bytes:
    """A file's bytes, or standard input's for '-' (os-level: pathlib's stat and read cost three
    times as much per file, which showed over thousands of files)."""
    if source == "-":
        return sys.stdin.buffer.read(_MAX_INPUT)
    try:
        fd = os.open(source, os.O_RDONLY)
        try:
            parts, total = [], 0
            while data := os.read(fd, _MAX_INPUT + 1 - total):
                parts.append(data)
                total += len(data)
                if total > _MAX_INPUT:
                    raise InputError(f"{source} is larger than 10 MB")
            return b"".join(parts)
        finally:
            os.close(fd)
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from exc


def _load_key(path: Path) -> Ed25519KeyPair:
    try:
        document = safejson.parse(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read key file {path}: {exc.strerror}") from exc
    secret = (
        document.get("secretKeyMultibase") or document.get("privateKeyMultibase")
        if isinstance(document, dict)
        else None
    )
    if not isinstance(secret, str):
        raise UsageError(f"{path} has no secretKeyMultibase (or privateKeyMultibase)")
    from microcred.standards.keys import Ed25519KeyPair

    pair = Ed25519KeyPair.from_secret_multibase(secret)
    public = document.get("publicKeyMultibase")
    if public is not None and public != pair.public_multibase:
        raise UsageError(f"{path}: publicKeyMultibase does not match the secret key")
    return pair


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


@app.command()
def keygen(
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the key pair here (mode 0600).")] = None,
) -> None:
    """Create an Ed25519 key pair in Multikey form."""
    from microcred.standards.keys import Ed25519KeyPair

    pair = Ed25519KeyPair.generate()
    text = (
        json.dumps({"publicKeyMultibase": pair.public_multibase, "secretKeyMultibase": pair.secret_multibase}, indent=2)
        + "\n"
    )
    if out_file is None:
        out().print(text, end="", markup=False)
    else:
        _write_secret(out_file, text)
        err().print(f"wrote {out_file} (did:key:{pair.public_multibase})")


@app.command()
def sign(
    files: Annotated[list[Path], typer.Argument(help="Unsigned credential JSON files.")],
    key: Annotated[Path, typer.Option("--key", help="Key file from `microcred keygen`.")],
    suite: Annotated[str, typer.Option("--suite", help="eddsa-rdfc-2022, eddsa-jcs-2022 or jwt.")] = "eddsa-rdfc-2022",
    verification_method: Annotated[str | None, typer.Option("--verification-method")] = None,
    created: Annotated[
        str | None, typer.Option("--created", help="ISO 8601 proof creation time (default now).")
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir")] = None,
    resource: ResourceOpt = None,
) -> None:
    """Sign credentials with a Data Integrity proof or as a VC-JWT."""
    from microcred.services.credentials import SignRequest

    if out_file and len(files) > 1:
        raise UsageError("--out takes one input file; use --out-dir for several")
    pair = _load_key(key)
    service, local = _service_and_local(resource)
    when = instant(created, "--created") or datetime.now(UTC)
    suffix = ".jwt" if suite == "jwt" else ".json"
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    def sign_one(path: Path) -> str:
        credential = safejson.parse(_read(str(path)))
        if not isinstance(credential, dict):
            raise InputError(f"{path} is not a JSON object")
        signed = service.sign(SignRequest(credential, pair, suite, verification_method, when))
        return signed if isinstance(signed, str) else pretty(signed)

    # This process writes, in input order: nothing is written past the first input that fails (and
    # writes from two workers at once were slower, not faster, on this machine's disk).
    forkable = _forkable(local, [str(p) for p in files])
    for path, text in zip(files, fanout.ordered(sign_one, files, parallel=forkable), strict=False):
        if out_dir is not None:
            _write_file(out_dir / (path.stem + suffix), text)
        elif out_file is not None:
            _write_file(out_file, text)
        else:
            sys.stdout.write(text + "\n")


def _write_file(path: Path, text: str) -> None:
    """Replace a file's content (os-level: the buffered text layer cost a third of the write)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            data = memoryview(text.encode("utf-8"))
            while data:
                data = data[os.write(fd, data) :]
        finally:
            os.close(fd)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc


@app.command()
def verify(
    sources: Annotated[list[str], typer.Argument(help="Files, URLs or - for standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report object(s).")] = False,
    offline: Annotated[bool, typer.Option("--offline/--online", help="Never fetch remote documents (default).")] = True,
    at: Annotated[str | None, typer.Option("--at", help="Verify as of this ISO 8601 instant.")] = None,
    resource: ResourceOpt = None,
    part: Annotated[
        list[Path] | None,
        typer.Option("--part", help="A part a roll-up cites (repeatable): checked against its digest and verified."),
    ] = None,
    recipient: Annotated[
        str | None, typer.Option("--recipient", help="An Open Badges 2.0 badge's recipient must be this email.")
    ] = None,
) -> None:
    """Verify credentials: JSON-LD, compact JWT, baked PNG or SVG (a roll-up together with its --part files)."""
    service, local = _service_and_local(resource, offline=offline)
    when = instant(at, "--at")
    parts = [_read(str(p)) for p in part or []]
    if parts and len(sources) != 1:
        raise UsageError("--part goes with exactly one roll-up credential")

    def verify_one(source: str) -> Any:
        data = _fetch_source(source, offline)
        if parts:
            from microcred.standards.rollup import verify_with_parts

            report = verify_with_parts(service.verifier, data, parts, when)
        else:
            report = service.verify(data, at=when, recipient=recipient)
        report.source = source
        return report

    forkable = _forkable(local, sources, offline=offline)
    _report(list(fanout.ordered(verify_one, sources, parallel=forkable)), as_json)


def _forkable(local: Any, sources: list[str], *, offline: bool = True) -> bool:
    """Workers may be forked: no database connection (an installation's documents), no network
    client and no standard input (one stream: which process would read it?) is involved."""
    return local is None and offline and "-" not in sources


def _fetch_source(source: str, offline: bool) -> bytes:
    if source.startswith(("https://", "http://")):
        if offline:
            raise UsageError(f"{source}: fetching is off; pass --online to fetch over https")
        from microcred.net.fetcher import GuardedFetcher

        return GuardedFetcher().fetch(source)
    return _read(source)


def _report(reports: list[Any], as_json: bool) -> None:
    if as_json:
        payload = [r.to_json() for r in reports]
        sys.stdout.write(pretty(payload[0] if len(payload) == 1 else payload) + "\n")
    else:
        for report in reports:
            from microcred.cli import render

            render.checklist(sys.stdout, report)
    raise typer.Exit(EXIT_OK if all(r.verified for r in reports) else EXIT_NOT_VERIFIED)


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Credential files (a proof is not required).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    resource: ResourceOpt = None,
) -> None:
    """Check data model, contexts and schema without requiring a proof."""
    service = _service(resource)
    reports = []
    for source in files:
        report = service.validate(_read(source))
        report.source = source
        reports.append(report)
    _report(reports, as_json)


@app.command()
def inspect(file: Annotated[str, typer.Argument(help="A credential file (JSON, JWT, PNG, SVG).")]) -> None:
    """Show a credential readably."""
    from microcred.cli import render

    service = _service(None)
    report = service.validate(_read(file))
    if report.credential is None:
        render.checklist(sys.stdout, report)
        raise typer.Exit(EXIT_NOT_VERIFIED)
    render.inspect(out(), report.credential, report.format)


@app.command()
def demo(
    tour: Annotated[bool, typer.Option("--tour", help="Only the terminal tour of the engine, no server.")] = False,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the web application after seeding.")] = True,
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
) -> None:
    """Seed a realistic demo (3 organisations, 19 microcredentials, 200 learners) and serve it."""
    if tour:
        from microcred.cli.demo import run

        run(out())
        return
    from microcred.cli import demo_seed
    from microcred.config import Settings

    settings = Settings()
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=out(), transient=True) as bar:
        task = bar.add_task("seeding the demo (about two minutes)", total=None)

        def step(note: str) -> None:
            bar.update(task, description=note)
            if not note.startswith(("learner accounts:", "awards:")):  # milestones stay on screen
                bar.console.print(f"  ✓ {note}", markup=False)

        out().print("Seeding the demo into", settings.data_dir.resolve(), markup=False)
        demo_seed.seed(settings, step)
    out().rule("[bold]microcred demo[/bold]")
    out().print(f"Data: {settings.data_dir.resolve()}   Open: [cyan]{settings.public_base_url}[/cyan]")
    out().print(f"Every demo login uses the password [bold]{demo_seed.PASSWORD}[/bold]:")
    for email, role, _org, what in demo_seed.LOGINS:
        out().print(f"  {email:34} {role:15} {what}")
    out().print("Mail (claim links, resets) goes to the outbox: sign in as the admin and open Outbox.")
    if serve:
        from microcred.cli.platform import serve as run_server

        run_server(host="127.0.0.1", port=port, workers=1, access_log=False)


platform_commands.register(app)
pathway_commands.register(app)
skill_commands.register(app)
webhook_commands.register(app)
oauth_commands.register(app)
migrate_commands.register(app)


def _command_for(args: list[str]) -> Any:
    """The click command for these arguments, converted only as far as they reach.

    Typer converts every command's signature into click parameters up front, which is most of the cost
    of `microcred --help` with some fifty commands. So the command named first is the only one converted
    (in a group of its own, so the command line reads the same); `--help`, no command or an unknown one
    get the listing, built from names and docstrings alone."""
    name = next((arg for arg in args if not arg.startswith("-")), None)
    chosen = typer.Typer(**TYPER, no_args_is_help=True, help=app.info.help)
    commands = {_command_name(info): info for info in app.registered_commands}
    groups = {str(info.name): info for info in app.registered_groups}
    if name in commands:
        chosen.registered_commands.append(commands[name])
    elif name in groups:
        chosen.registered_groups.append(groups[name])
    else:
        for listed, info in commands.items():
            chosen.command(listed, help=info.help or getdoc(info.callback))(_listed)
        for listed, group in groups.items():
            chosen.command(listed, help=group.typer_instance.info.help if group.typer_instance else None)(_listed)
    chosen.callback()(_listed)  # a group even with one command: `microcred verify FILE` keeps its form
    return typer.main.get_command(chosen)


def _command_name(info: Any) -> str:
    return str(info.name or info.callback.__name__.lower().replace("_", "-"))


def _listed() -> None:
    """Stands for a command in the listing; never runs (the real one is converted when named)."""


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        command = _command_for(args)
        code = command.main(args, prog_name="microcred", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else EXIT_OK)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # the click usage errors typer raises
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        err().print(f"[red]error:[/red] {escape(message)}")
        sys.exit(EXIT_USAGE)
    except MicrocredError as exc:
        err().print(f"[red]error ({exc.code}):[/red] {escape(exc.message)}")
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
