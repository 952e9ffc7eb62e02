"""Issuer keys encrypted at rest (AES-GCM under a key-encryption key) behind the Signer interface."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from microcred.errors import SigningError, UsageError
from microcred.standards.keys import Ed25519KeyPair


def load_or_create_kek(secret_key: str | None, key_file: Path, *, create: bool) -> bytes:
    """The 32-byte key-encryption key: from MICROCRED_SECRET_KEY, or a 0600 key file."""
    if secret_key:
        return _decode_kek(secret_key, "MICROCRED_SECRET_KEY")
    if key_file.exists():
        if key_file.stat().st_mode & 0o077:
            raise UsageError(f"{key_file} is readable by others; run: chmod 600 {key_file}")
        return _decode_kek(key_file.read_text().strip(), str(key_file))
    if not create:
        raise UsageError(
            f"no key-encryption key: set MICROCRED_SECRET_KEY or run `microcred init` ({key_file} is missing)"
        )
    key = secrets.token_bytes(32)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode() + "\n")
    return key


def _decode_kek(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise UsageError(f"{where} is not base64") from exc
    if len(key) != 32:
        raise UsageError(
            f"{where} must hold 32 random bytes, base64 encoded (e.g. `python -c 'import secrets,base64;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'`)"
        )
    return key


class KeyVault:
    """Seals and opens Ed25519 seeds; the issuer DID and key id are bound in as associated data."""

    def __init__(self, kek: bytes) -> None:
        self._aead = AESGCM(kek)
        self._kek = kek

    def derive(self, purpose: str) -> bytes:
        """A separate 32-byte secret for another purpose (web CSRF tokens), never the KEK itself."""
        import hmac

        return hmac.new(self._kek, b"microcred derive\0" + purpose.encode(), "sha256").digest()

    def seal(self, pair: Ed25519KeyPair, binding: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, pair.seed, binding.encode())

    def seal_secret(self, secret: bytes, binding: str) -> bytes:
        """Any other secret the platform must be able to read back (a webhook's signing secret)."""
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, secret, b"secret\0" + binding.encode())

    def open_secret(self, sealed: bytes, binding: str) -> bytes:
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], b"secret\0" + binding.encode())
        except InvalidTag as exc:
            raise SigningError(
                f"the secret for {binding} cannot be decrypted: wrong key-encryption key or tampered record"
            ) from exc

    def open(self, sealed: bytes, binding: str) -> Ed25519KeyPair:
        try:
            seed = self._aead.decrypt(sealed[:12], sealed[12:], binding.encode())
        except InvalidTag as exc:
            raise SigningError(
                f"the key for {binding} cannot be decrypted: wrong key-encryption key or tampered record"
            ) from exc
        return Ed25519KeyPair.from_seed(seed)
