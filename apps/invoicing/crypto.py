"""Peer tokens encrypted at rest (Fernet); the key is O2C_ENCRYPTION_KEY or derived from SECRET_KEY."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.O2C_ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(f"o2c-portal token key:{settings.SECRET_KEY}".encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def token_encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def token_decrypt(value: str) -> str:
    """The plain token; an empty string when there is none or the key changed (reconnect then)."""
    if not value:
        return ""
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        return ""
