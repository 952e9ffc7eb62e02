"""Data Integrity proofs (VC Data Integrity 1.0, VC-DI-EdDSA 1.0).

A generic proof engine parameterised by a tiny cryptosuite record, after
digitalbazaar's design: `eddsa-rdfc-2022` (RDFC-1.0), `eddsa-jcs-2022` (JCS),
and the legacy `Ed25519Signature2020` (verify only).
"""

from microcred.standards.di.proofs import (
    CRYPTOSUITES,
    DataIntegrity,
    ProofOptions,
    ProofOutcome,
    Signer,
)

__all__ = ["CRYPTOSUITES", "DataIntegrity", "ProofOptions", "ProofOutcome", "Signer"]
