"""Every published vector reproduced byte for byte, then verified."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from microcred.clock import FixedClock
from microcred.standards import status
from microcred.standards.dates import parse_datetime
from microcred.standards.di import CRYPTOSUITES, DataIntegrity, ProofOptions
from microcred.standards.dids import Resolver, StaticDocuments, did_key_document, did_key_for
from microcred.standards.jsonld import JsonLdProcessor
from microcred.standards.keys import Ed25519KeyPair, decode_public_multibase
from microcred.standards.multibase import decode_base58btc
from microcred.standards.verify import Verifier
from tests.conftest import NOW, VECTORS, W3C, read_json

W3C_KEY = read_json(W3C / "keyPair.json")
W3C_VM = f"did:key:{W3C_KEY['publicKeyMultibase']}#{W3C_KEY['publicKeyMultibase']}"


def _text(name: str) -> str:
    return (W3C / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("document", "canonical"),
    [
        ("unsigned.json", "eddsa-rdfc-2022/canonDocDataInt.txt"),
        ("employmentAuth.json", "eddsa-rdfc-2022/employ/canonDocDataInt.txt"),
        ("eddsa-rdfc-2022/proofConfigDataInt.json", "eddsa-rdfc-2022/proofCanonDataInt.txt"),
        ("eddsa-rdfc-2022/employ/proofConfigDataInt.json", "eddsa-rdfc-2022/employ/proofCanonDataInt.txt"),
        ("Ed25519Signature2020/proofConfigEdSig.json", "Ed25519Signature2020/proofCanonEdSig.txt"),
    ],
)
def test_rdfc_canonical_forms_match_w3c_vectors(test_jsonld: JsonLdProcessor, document: str, canonical: str) -> None:
    assert test_jsonld.canonize(read_json(W3C / document)) == _text(canonical)


@pytest.mark.parametrize(
    ("folder", "suffix"),
    [
        ("eddsa-rdfc-2022", "DataInt"),
        ("eddsa-rdfc-2022/employ", "DataInt"),
        ("eddsa-jcs-2022", "JCS"),
        ("Ed25519Signature2020", "EdSig"),
    ],
)
def test_hashes_and_signatures_match_w3c_vectors(test_jsonld: JsonLdProcessor, folder: str, suffix: str) -> None:
    signed = read_json(W3C / folder / f"signed{suffix}.json")
    proof = signed["proof"]
    suite = CRYPTOSUITES[proof.get("cryptosuite", proof["type"])]
    integrity = DataIntegrity(test_jsonld)
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if suite.rdf:
        config["@context"] = signed["@context"]
    hash_data = integrity.hash_data(suite, unsecured, config)
    assert hash_data[32:].hex() == _text(f"{folder}/docHash{suffix}.txt").strip()
    assert hash_data[:32].hex() == _text(f"{folder}/proofHash{suffix}.txt").strip()
    assert hash_data.hex() == _text(f"{folder}/combinedHash{suffix}.txt").strip()
    key = Ed25519KeyPair.from_secret_multibase(W3C_KEY["privateKeyMultibase"])
    signature = key.sign(hash_data)
    assert signature.hex() == _text(f"{folder}/sigHex{suffix}.txt").strip()
    assert "z" + _text(f"{folder}/sigBTC58{suffix}.txt").strip().removeprefix("z") == proof["proofValue"]


def test_jcs_canonical_forms_match_w3c_vectors() -> None:
    from microcred.standards import jcs

    signed = read_json(W3C / "eddsa-jcs-2022/signedJCS.json")
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    assert jcs.canonicalize(unsecured).decode() == _text("eddsa-jcs-2022/canonDocJCS.txt")
    assert jcs.canonicalize(read_json(W3C / "eddsa-jcs-2022/proofConfigJCS.json")).decode() == _text(
        "eddsa-jcs-2022/proofCanonJCS.txt"
    )


@pytest.mark.parametrize(
    ("suite", "unsigned", "signed"),
    [
        ("eddsa-rdfc-2022", "unsigned.json", "eddsa-rdfc-2022/signedDataInt.json"),
        ("eddsa-rdfc-2022", "employmentAuth.json", "eddsa-rdfc-2022/employ/signedDataInt.json"),
        ("eddsa-jcs-2022", "unsigned.json", "eddsa-jcs-2022/signedJCS.json"),
    ],
)
def test_signing_reproduces_w3c_signed_documents(
    test_jsonld: JsonLdProcessor, suite: str, unsigned: str, signed: str
) -> None:
    expected = _text(signed)
    created = parse_datetime(json.loads(expected)["proof"]["created"])
    key = Ed25519KeyPair.from_secret_multibase(W3C_KEY["privateKeyMultibase"])
    result = DataIntegrity(test_jsonld).sign(read_json(W3C / unsigned), key, ProofOptions(W3C_VM, suite, created))
    assert json.dumps(result, indent=2) == expected


@pytest.mark.parametrize(
    "signed",
    [
        "eddsa-rdfc-2022/signedDataInt.json",
        "eddsa-rdfc-2022/employ/signedDataInt.json",
        "eddsa-jcs-2022/signedJCS.json",
        "Ed25519Signature2020/signedEdSig.json",
        "proof-set-chain/signedProofSet1.json",
        "proof-set-chain/signedProofSet2.json",
        "proof-set-chain/signedProofChain1.json",
        "proof-set-chain/signedProofChain2.json",
    ],
)
def test_w3c_vectors_pass_the_proof_check_and_rightly_fail_key_binding(test_loader: Any, signed: str) -> None:
    verifier = Verifier(test_loader, Resolver(), FixedClock(NOW))
    report = verifier.verify(read_json(W3C / signed))
    assert report.status_of("proof") == "passed", report.to_json()
    # The vectors name an https issuer but sign with a did:key.
    assert report.status_of("key_binding") == "failed"
    assert not report.verified


def test_w3c_vector_fails_when_one_proof_of_a_set_is_broken(test_loader: Any) -> None:
    document = read_json(W3C / "proof-set-chain/signedProofSet2.json")
    document["proof"][1]["proofValue"] = document["proof"][0]["proofValue"]
    report = Verifier(test_loader, Resolver(), FixedClock(NOW)).verify(document)
    assert report.status_of("proof") == "failed"


OB_KEY_HEX = "4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5"
OB_SEED_HEX = "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"
OB_VM = "https://example.edu/issuers/565049#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
OB_PROOF = {
    "type": "DataIntegrityProof",
    "created": "2010-01-01T19:23:24Z",
    "verificationMethod": OB_VM,
    "cryptosuite": "eddsa-rdfc-2022",
    "proofPurpose": "assertionMethod",
}
EDTECH = VECTORS / "1edtech-ob-clr" / "test-vectors"


@pytest.mark.parametrize(
    ("fixture", "folder", "doc_hash", "signature_hex", "proof_value"),
    [
        (
            "ob3-teamwork-unsigned.json",
            "obv3p0",
            "87f65a76d40146205e3b3e06cb0fbd153f97f9ce70372390f52566bb7f9e0773",
            "f7a017acf7d27983267ec362657c0fb08e955549f49dac5bf36a03c4f2c3a4f1e3738a6c5ecd7ffba7135cb9cd754e6196f4b73082ea8df8e703c8ecd4333503",
            "z5x9aCBYovW3CQCbKdNyhEm7ffYSw1YpEdPywQJoNbzDD2gkzQDKJ1sYKJaWvqZtkMtSbz35HcbgXVEDYHxCzgkCr",
        ),
        (
            "clr2-transcript-unsigned.json",
            "clrv2p0",
            "768d7015ae69e0210e1c2a45194d9c1d15d7a6022e52b946574a2a27f6fa85fe",
            "0c220dadbcfcaa64ab8a8c5002dbe258e6c7746ca71c25e2ea3b7fbffd66568413f53b1d34f5655f3057864bd372bbf0d1e74ea2f8c72e2f4b5790f21a22b70a",
            "zF52sU1nfPAjcwCqtgxPNSor6SJnAzRBwZW5VNQXPt8xXCHkd39sgqj32DnMjhFCzbyHsLkhQ8HpBqQTkMgXy329",
        ),
    ],
)
def test_1edtech_ob_and_clr_vectors_reproduce(
    jsonld: JsonLdProcessor, loader: Any, fixture: str, folder: str, doc_hash: str, signature_hex: str, proof_value: str
) -> None:
    document = read_json(VECTORS / fixture)
    canonical = jsonld.canonize(document)
    assert canonical == (EDTECH / folder / "document-canon.txt").read_text()
    assert hashlib.sha256(canonical.encode()).hexdigest() == doc_hash
    proof_canon = jsonld.canonize({**OB_PROOF, "@context": document["@context"]})
    assert proof_canon == (EDTECH / folder / "proof-canon.txt").read_text()
    key = Ed25519KeyPair.from_seed(bytes.fromhex(OB_SEED_HEX))
    assert key.public_bytes.hex() == OB_KEY_HEX
    signed = DataIntegrity(jsonld).sign(
        document, key, ProofOptions(OB_VM, created=parse_datetime("2010-01-01T19:23:24Z"))
    )
    proofs = signed["proof"] if isinstance(signed["proof"], list) else [signed["proof"]]
    assert proofs[-1]["proofValue"] == proof_value
    assert decode_base58btc(proof_value).hex() == signature_hex
    # The vector's verification method is not resolvable; an operator supplies its controller document.
    controller = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": "https://example.edu/issuers/565049",
        "verificationMethod": [
            {
                "id": OB_VM,
                "type": "Multikey",
                "controller": "https://example.edu/issuers/565049",
                "publicKeyMultibase": "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
            }
        ],
        "assertionMethod": [OB_VM],
    }
    verifier = Verifier(
        loader, Resolver([StaticDocuments({"https://example.edu/issuers/565049": controller})]), FixedClock(NOW), jsonld
    )
    report = verifier.verify(signed)
    assert report.verified, report.to_json()


def test_did_key_vectors_derive_the_published_identifiers() -> None:
    vectors = read_json(VECTORS / "did-key" / "ed25519-x25519.json")
    assert len(vectors) >= 5
    for did, entry in vectors.items():
        seed = entry["seed"]
        pair = Ed25519KeyPair.from_seed(bytes.fromhex(seed))
        assert did_key_for(pair.public_bytes) == did
        document = did_key_document(did)
        method = document["verificationMethod"][0]
        assert decode_public_multibase(method["publicKeyMultibase"]) == pair.public_bytes
        assert document["assertionMethod"] == [method["id"]]


def test_bitstring_status_list_rec_example_decodes_to_131072_clear_bits() -> None:
    bits = status.Bitstring.decode("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
    assert bits.size == 131_072
    assert not any(bits.bits)
    assert status.Bitstring().encode() == status.Bitstring.decode(status.Bitstring().encode()).encode()


def test_older_64_byte_secret_multikey_form_is_read() -> None:
    pair = Ed25519KeyPair.from_secret_multibase(
        "zrv2bqTbNwCTsRrHFcJCPjVAduh4Ezcnoq1A3ZxH1GWTNkxipLVuaAoMFmze2gFN9oNXfJjufxSHWVZzsJiUsMHFMcx"
    )
    assert pair.public_bytes.hex() == OB_KEY_HEX
    assert pair.public_multibase == "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    assert pair.secret_multibase.startswith("z3u2")
