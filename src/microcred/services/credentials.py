"""Signing and verifying credentials for the CLI and, later, the web edges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from microcred.errors import ResolutionError, SigningError, UsageError
from microcred.standards.di import ProofOptions
from microcred.standards.dids import did_key_for
from microcred.standards.keys import Ed25519KeyPair, verify_ed25519
from microcred.standards.verify import Report, Verifier

if TYPE_CHECKING:
    from microcred.standards.ob2 import Ob2Result

SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "jwt")


@dataclass(frozen=True, slots=True)
class SignRequest:
    credential: dict[str, Any]
    key: Ed25519KeyPair
    suite: str = "eddsa-rdfc-2022"
    verification_method: str | None = None
    created: datetime | None = None


class CredentialService:
    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier

    def sign(self, request: SignRequest) -> dict[str, Any] | str:
        """Sign, then verify the proof of what was produced before handing it out."""
        if request.suite not in SUITES:
            raise UsageError(f"unknown suite {request.suite!r}; choose one of {', '.join(SUITES)}")
        did = did_key_for(request.key.public_bytes)
        vm = request.verification_method or f"{did}#{request.key.public_multibase}"
        if request.suite == "jwt":
            from microcred.standards import jose

            token = jose.sign_vc_jwt(request.credential, request.key, vm)
            self._self_check(token)
            return token
        options = ProofOptions(vm, request.suite, request.created)
        signed = self.verifier.integrity.sign_reporting(request.credential, request.key, options)
        self._check_signature(vm, signed.signature, signed.hashed)
        return signed.document

    def _check_signature(self, vm: str, signature: bytes, hashed: bytes) -> None:
        """The new signature checks out with the key the verification method resolves to, over the hash
        just signed. That is what a verifier's proof check proves, without canonicalizing a second time
        (which doubled the cost of signing): a wrong --verification-method or a key that is not the
        DID's is caught here, before anything is written."""
        try:
            method, _controller = self.verifier.resolver.verification_method(vm)
        except ResolutionError as exc:
            raise SigningError(f"the signed credential does not verify: {exc.message}") from exc
        if method.ed25519 is None or not verify_ed25519(method.ed25519, signature, hashed):
            raise SigningError(f"the signed credential does not verify: {vm} is not the key that signed it")

    def _self_check(self, signed: dict[str, Any] | str) -> None:
        report = self.verifier.verify(signed)
        if report.status_of("proof") != "passed":
            reasons = "; ".join(f"{c.code}: {c.message}" for c in report.checks if c.status == "failed")
            raise SigningError(f"the signed credential does not verify: {reasons}")

    def verify(
        self, data: bytes | str | dict[str, Any], at: datetime | None = None, *, recipient: str | None = None
    ) -> Report:
        """Any credential: OB 3.0 and VCs, or an Open Badges 2.0 assertion (hosted, signed or baked);
        `recipient`: an email an OB 2.0 assertion's (hashed) recipient must be."""
        from microcred.standards.ob2 import ob2_text

        text = ob2_text(data)
        if text is not None:
            return self.verify_ob2(text, at, recipient).report
        return self.verifier.verify(data, at=at)

    def verify_ob2(self, text: str, at: datetime | None = None, recipient: str | None = None) -> Ob2Result:
        from microcred.standards.ob2 import Ob2Verifier

        return Ob2Verifier(self.verifier.resolver).verify(text, at or self.verifier.clock.now(), recipient)

    def validate(self, data: bytes | str | dict[str, Any]) -> Report:
        return self.verifier.validate(data)
