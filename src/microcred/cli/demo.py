"""`make demo` before the web application exists: a terminal tour of the engine."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from rich.console import Console

from microcred import bootstrap
from microcred.cli import render
from microcred.services.credentials import SignRequest
from microcred.services.samples import data_analytics_microcredential
from microcred.standards import baking
from microcred.standards.dids import did_key_for
from microcred.standards.images import solid_png
from microcred.standards.keys import Ed25519KeyPair


def run(console: Console) -> None:
    service = bootstrap.build_credential_service(bootstrap.Options({}))
    key = Ed25519KeyPair.generate()
    issuer = did_key_for(key.public_bytes)
    console.rule("[bold]microcred demo[/bold]")
    console.print(f"1. Created a did:key issuer: [cyan]{issuer}[/cyan]")
    now = datetime.now(UTC).replace(microsecond=0)
    credential = data_analytics_microcredential(
        issuer, "did:example:ada-lovelace", now, "urn:uuid:3f4c1e2a-7b9d-4c8e-a1f2-5d6e7f8a9b0c"
    )
    console.print(
        f"2. Built an OB 3.0 AchievementCredential: [bold]{credential['name']}[/bold] ({len(json.dumps(credential)):,} bytes)"
    )
    signed_rdfc = None
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022", "jwt"):
        signed = service.sign(SignRequest(credential, key, suite))
        report = service.verify(signed)
        report.source = f"signed with {suite}"
        console.print(f"3. Signed with [bold]{suite}[/bold] and verified:")
        render.checklist(console.file, report)
        if suite == "eddsa-rdfc-2022":
            signed_rdfc = signed
    assert isinstance(signed_rdfc, dict)
    png = baking.bake_png(solid_png(64, 64, (32, 96, 160)), json.dumps(signed_rdfc))
    report = service.verify(png)
    report.source = f"baked PNG ({len(png):,} bytes)"
    console.print("4. Baked the credential into a PNG badge and verified the image:")
    render.checklist(console.file, report)
    tampered = copy.deepcopy(signed_rdfc)
    tampered["credentialSubject"]["achievement"]["name"] = "Data Analytics with Python (Distinction)"
    report = service.verify(tampered)
    report.source = "tampered copy (achievement name changed)"
    console.print("5. Tampered with the achievement name; verification now fails:")
    render.checklist(console.file, report)
    added = copy.deepcopy(signed_rdfc)
    added["credentialSubject"]["grade"] = "A+"
    report = service.verify(added)
    report.source = "copy with an undefined term added after signing"
    console.print("6. Added an undefined term after signing (other verifiers silently drop it):")
    render.checklist(console.file, report)
    console.rule("done")
