"""Ed25519 keys, Multikey encoding, and the safety checks verifiers need.

Public Multikey: `z` + base58btc(0xed 0x01 + 32-byte key) -> `z6Mk...`.
Secret Multikey: `z` + base58btc(0x80 0x26 + 32-byte seed) -> `z3u2...`; the
older Digital Bazaar form with seed||public (64 bytes) is also read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from microcred.errors import InputError, KeyFormatError
from microcred.standards.multibase import decode_base58btc, encode_base58btc

ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"

# Curve constants for the small-order check (RFC 8032).
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, -1, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


@dataclass(frozen=True, slots=True)
class Ed25519KeyPair:
    private: Ed25519PrivateKey
    public_bytes: bytes

    @classmethod
    def generate(cls) -> Ed25519KeyPair:
        return cls.from_seed(Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519KeyPair:
        if len(seed) != 32:
            raise KeyFormatError("an Ed25519 seed is 32 bytes")
        private = Ed25519PrivateKey.from_private_bytes(seed)
        return cls(private, private.public_key().public_bytes_raw())

    @classmethod
    def from_secret_multibase(cls, value: str) -> Ed25519KeyPair:
        try:
            raw = decode_base58btc(value)
        except InputError as exc:
            raise KeyFormatError(f"secret key is not a base58-btc Multikey: {exc.message}") from exc
        if not raw.startswith(ED25519_PRIV_PREFIX) or len(raw) not in (34, 66):
            raise KeyFormatError("secret key is not an Ed25519 Multikey (expected 0x8026 prefix)")
        pair = cls.from_seed(raw[2:34])
        if len(raw) == 66 and raw[34:] != pair.public_bytes:
            raise KeyFormatError("secret key's embedded public key does not match its seed")
        return pair

    @property
    def seed(self) -> bytes:
        return self.private.private_bytes_raw()

    @property
    def public_multibase(self) -> str:
        return public_key_multibase(self.public_bytes)

    @property
    def secret_multibase(self) -> str:
        return encode_base58btc(ED25519_PRIV_PREFIX + self.seed)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


@lru_cache(maxsize=4096)
def public_key_multibase(public: bytes) -> str:
    return encode_base58btc(ED25519_PUB_PREFIX + public)


@lru_cache(maxsize=4096)
def decode_public_multibase(value: str) -> bytes:
    """The raw 32-byte Ed25519 key of a `z6Mk...` value, checked for safety."""
    try:
        raw = decode_base58btc(value)
    except InputError as exc:
        raise KeyFormatError(f"public key is not base58-btc: {exc.message}") from exc
    if not raw.startswith(ED25519_PUB_PREFIX) or len(raw) != 34:
        raise KeyFormatError("public key is not an Ed25519 Multikey (expected 0xed01 prefix and 32 bytes)")
    return check_public_key(raw[2:])


def check_public_key(public: bytes) -> bytes:
    if len(public) != 32:
        raise KeyFormatError("an Ed25519 public key is 32 bytes")
    problem = _point_problem(public)
    if problem:
        raise KeyFormatError(f"unsafe Ed25519 public key: {problem}")
    return public


@lru_cache(maxsize=4096)
def _point_problem(public: bytes) -> str:
    """Why a 32-byte string is not a safe Ed25519 public key, or ''."""
    y = int.from_bytes(public, "little") & ((1 << 255) - 1)
    sign = public[31] >> 7
    if y >= _P:
        return "non-canonical point encoding"
    x = _recover_x(y, sign)
    if x is None:
        return "not a point on the curve"
    if x == 0 and sign:
        return "non-canonical point encoding"
    point = (x, y, 1, x * y % _P)
    for _ in range(3):
        point = _double(point)
    if point[0] % _P == 0 and (point[1] - point[2]) % _P == 0:
        return "small-order point (it would accept forged signatures)"
    return ""


def _recover_x(y: int, sign: int) -> int | None:
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if (v * x * x - u) % _P != 0:
        x = x * _SQRT_M1 % _P
        if (v * x * x - u) % _P != 0:
            return None
    if x & 1 != sign:
        x = _P - x
    return x % _P


def _double(pt: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x1, y1, z1, _ = pt
    a = x1 * x1 % _P
    b = y1 * y1 % _P
    c = 2 * z1 * z1 % _P
    h = (a + b) % _P
    e = (h - (x1 + y1) * (x1 + y1)) % _P
    g = (a - b) % _P
    f = (c + g) % _P
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def verify_ed25519(public: bytes, signature: bytes, message: bytes) -> bool:
    """Strict Ed25519 verification: safe key, canonical S, then the signature."""
    if len(signature) != 64:
        return False
    if int.from_bytes(signature[32:], "little") >= _L:
        return False
    try:
        check_public_key(public)
        key = _public_key(public)
        key.verify(signature, message)
    except (KeyFormatError, InvalidSignature, ValueError):
        return False
    return True


@lru_cache(maxsize=4096)
def _public_key(public: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public)
