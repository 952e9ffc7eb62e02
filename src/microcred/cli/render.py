"""Human output for the CLI: coloured checklists and readable credentials."""

from __future__ import annotations

import os
import re
from typing import IO, TYPE_CHECKING, Any

from microcred.cli.consoles import escape

if TYPE_CHECKING:
    from rich.console import Console

    from microcred.standards.verify import Report

# (mark, ANSI colour) per check status.
_MARKS = {"passed": ("✔", "32"), "failed": ("✘", "31"), "warning": ("!", "33"), "skipped": ("–", "2")}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def checklist(stream: IO[str], report: Report) -> None:
    """The verdict and one line per check, coloured on a terminal (NO_COLOR respected).

    Written without rich: `microcred verify` prints this for every file, and importing rich would cost
    more than the verification. Messages quote the credential, so control characters are shown, never sent."""
    colour = stream.isatty() and "NO_COLOR" not in os.environ

    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if colour else text

    verdict = paint("VERIFIED", "1;32") if report.verified else paint("NOT VERIFIED", "1;31")
    lines = [f"{verdict}  {_shown(report.source or 'credential')}  {paint(f'({report.format})', '2')}"]
    for check in report.checks:
        mark, code = _MARKS.get(check.status, ("?", "0"))
        lines.append(f"  {paint(mark, code)} {paint(check.code, '1')}: {_shown(check.message)}")
    stream.write("\n".join(lines) + "\n")
    stream.flush()


def _shown(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def inspect(console: Console, credential: dict[str, Any], fmt: str) -> None:
    issuer = credential.get("issuer")
    issuer_text = f"{issuer.get('name', '')} <{issuer.get('id')}>" if isinstance(issuer, dict) else str(issuer)
    console.print(
        f"[bold]{escape(str(credential.get('name', 'Credential')))}[/bold]  [dim]{escape(str(credential.get('id', '')))} ({fmt})[/dim]"
    )
    console.print(f"  type: {escape(', '.join(_list(credential.get('type'))))}")
    console.print(f"  issuer: {escape(issuer_text)}")
    for key in ("validFrom", "validUntil", "issuanceDate", "expirationDate", "awardedDate"):
        if key in credential:
            console.print(f"  {key}: {escape(str(credential[key]))}")
    for subject in _list(credential.get("credentialSubject")):
        if isinstance(subject, dict):
            _subject(console, subject)
    for entry in _list(credential.get("credentialStatus")):
        if isinstance(entry, dict):
            console.print(
                f"  status: {escape(str(entry.get('statusPurpose')))} at {escape(str(entry.get('statusListCredential')))} #{escape(str(entry.get('statusListIndex')))}"
            )
    for proof in _list(credential.get("proof")):
        if isinstance(proof, dict):
            console.print(
                f"  proof: {escape(str(proof.get('cryptosuite') or proof.get('type')))} by {escape(str(proof.get('verificationMethod')))} at {escape(str(proof.get('created')))}"
            )


def _subject(console: Console, subject: dict[str, Any]) -> None:
    who = subject.get("id") or ", ".join(
        str(i.get("identityHash", "")) for i in _list(subject.get("identifier")) if isinstance(i, dict)
    )
    console.print(f"  subject: {escape(str(who or '(unidentified)'))}")
    achievement = subject.get("achievement")
    if not isinstance(achievement, dict):
        return
    console.print(
        f"  achievement: {escape(str(achievement.get('name')))} [{escape(str(achievement.get('achievementType', '')))}]"
    )
    criteria = achievement.get("criteria")
    if isinstance(criteria, dict) and criteria.get("narrative"):
        console.print(f"    criteria: {escape(str(criteria['narrative']))}")
    for alignment in _list(achievement.get("alignment")):
        if isinstance(alignment, dict):
            console.print(
                f"    skill: {escape(str(alignment.get('targetName')))} <{escape(str(alignment.get('targetUrl')))}>"
            )


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
