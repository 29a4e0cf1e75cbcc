"""Identifier and secret generation. Secrets are random; only their hashes are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_id(prefix: str) -> str:
    """A sortable-enough unique id with a readable prefix, e.g. ``msg_0f3c...``."""
    return f"{prefix}_{uuid.uuid4().hex}"


def new_secret(prefix: str) -> str:
    """A 256-bit random secret with a prefix that tells what it is when found in a log."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret.

    Every secret Parley hashes is 256 random bits it generated itself, so a fast digest is
    the right tool (a slow password hash adds nothing against brute force of 2**256 and
    would make every lookup slow); see docs/security.md.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
