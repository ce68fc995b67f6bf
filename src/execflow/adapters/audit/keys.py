"""The Ed25519 key that signs audit checkpoints (docs/adr/0010-audit-hash-chain.md).

Kept in the data directory (``audit/signing-key.pem``, mode 0600), created on first use by the
writer; the public half beside it (``audit/signing-key.pub.pem``) is what a verifier needs and
what ``execflow audit public-key`` exports. ``cryptography`` is the ``audit`` extra: a core
install keeps the hash chain but writes no signed checkpoints (said once in the log).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Final

from execflow.domain.audit import Checkpoint, checkpoint_message
from execflow.extras import missing_extra

KEY_DIR: Final = "audit"
PRIVATE_FILE: Final = "signing-key.pem"
PUBLIC_FILE: Final = "signing-key.pub.pem"


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as e:
        raise missing_extra(e, "signed audit checkpoints") from e
    return serialization, ed25519


def key_id_of(public_raw: bytes) -> str:
    """A short stable name of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


class Ed25519Signer:
    """Signs checkpoint messages with the data directory's private key."""

    def __init__(self, private_key: Any) -> None:
        serialization, _ = _crypto()
        self._key = private_key
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._key_id = key_id_of(raw)

    @property
    def key_id(self) -> str:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        signature: bytes = self._key.sign(message)
        return signature


def load_or_create_signer(data_dir: Path) -> Ed25519Signer:
    """The signer of this data directory; the key pair is created (0600) when absent."""
    serialization, ed25519 = _crypto()
    folder = data_dir / KEY_DIR
    private = folder / PRIVATE_FILE
    if private.exists():
        key = serialization.load_pem_private_key(private.read_bytes(), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"{private} is not an Ed25519 private key")
        return Ed25519Signer(key)
    folder.mkdir(parents=True, exist_ok=True)
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = private.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, private)
    (folder / PUBLIC_FILE).write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return Ed25519Signer(key)


def public_key_pem(data_dir: Path) -> bytes | None:
    """The exported public key of a data directory (None: no key was ever created)."""
    path = data_dir / KEY_DIR / PUBLIC_FILE
    return path.read_bytes() if path.exists() else None


class SignatureChecker:
    """Checks checkpoint signatures against one public key (PEM)."""

    def __init__(self, public_pem: bytes) -> None:
        serialization, ed25519 = _crypto()
        key = serialization.load_pem_public_key(public_pem)
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ValueError("the audit public key is not an Ed25519 key")
        self._key = key
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = key_id_of(raw)

    def __call__(self, checkpoint: Checkpoint) -> bool:
        from cryptography.exceptions import InvalidSignature

        message = checkpoint_message(checkpoint.position, checkpoint.hash, checkpoint.every)
        try:
            self._key.verify(checkpoint.signature, message)
        except InvalidSignature:
            return False
        return True
