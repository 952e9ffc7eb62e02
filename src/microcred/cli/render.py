"""Human output for the CLI: coloured checklists and readable credentials."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from microcred.standards.verify import Report

_MARKS = {
    "passed": "[green]✔[/green]",
    "failed": "[red]✘[/red]",
    "warning": "[yellow]![/yellow]",
    "skipped": "[dim]–[/dim]",
}


def checklist(console: Console, report: Report) -> None:
    title = escape(report.source or "credential")
    verdict = "[bold green]VERIFIED[/bold green]" if report.verified else "[bold red]NOT VERIFIED[/bold red]"
    console.print(f"{verdict}  {title}  [dim]({report.format})[/dim]")
    for check in report.checks:
        console.print(f"  {_MARKS.get(check.status, '?')} [bold]{check.code}[/bold]: {escape(check.message)}")


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
