"""The optional login: who may log in, who may change the index, and the warning when the app is exposed."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings, get_settings

ADMIN_ONLY = "Only administrators may change the documents: ask an administrator to upload or remove it for you."

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Access:
    """Who may log in, and who may change the index. No users configured = no login, everyone may."""

    users: Mapping[str, str] = field(default_factory=dict)
    admins: frozenset[str] = frozenset()

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    def check(self, username: str, password: str) -> bool:
        """Gradio's ``auth`` callable: a constant-time password comparison."""
        expected = self.users.get(username)
        return expected is not None and hmac.compare_digest(expected.encode(), (password or "").encode())

    def is_admin(self, username: str | None) -> bool:
        """May this user upload and remove documents? Everyone may when login is off."""
        return not self.enabled or (username is not None and username in self.admins)


def parse_logins(lines: Sequence[str], where: str) -> tuple[dict[str, str], set[str]]:
    """Parse ``user:password[:admin]`` entries; raise ``ValueError`` naming the bad entry and the format."""
    users: dict[str, str] = {}
    admins: set[str] = set()
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, password = line.partition(":")
        admin = password.endswith(":admin")
        if admin:
            password = password.removesuffix(":admin")
        if not sep or not name.strip() or not password:
            raise ValueError(
                f"{where}, entry {number}: expected `user:password` or `user:password:admin`, got {line[:40]!r}"
            )
        users[name.strip()] = password
        if admin:
            admins.add(name.strip())
    return users, admins


def load_access(settings: Settings | None = None) -> Access:
    """Logins from ``PVA_AUTH_FILE`` and ``PVA_AUTH_USERS``; admins from ``:admin`` entries and ``PVA_ADMIN_USERS``.

    Raises:
        ValueError: the login file is missing or has a malformed entry (the message names it).
    """
    settings = settings or get_settings()
    users: dict[str, str] = {}
    admins: set[str] = set()
    if settings.auth_file is not None:
        try:
            lines = Path(settings.auth_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(
                f"cannot read the login file {settings.auth_file} ({exc.strerror}): fix PVA_AUTH_FILE or unset it"
            ) from exc
        found, found_admins = parse_logins(lines, str(settings.auth_file))
        users.update(found)
        admins |= found_admins
    if settings.auth_users is not None:
        secret = settings.auth_users
        entries = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
        found, found_admins = parse_logins(entries.split(","), "PVA_AUTH_USERS")
        users.update(found)
        admins |= found_admins
    admins |= {name.strip() for name in settings.admin_users.split(",") if name.strip()}
    return Access(users=users, admins=frozenset(admins))


def exposure_warning(host: str, access: Access) -> str | None:
    """The warning printed when the app is reachable from other machines with no login, else ``None``."""
    if host in LOOPBACK_HOSTS or access.enabled:
        return None
    return (
        f"warning: serving on {host} without a login: anyone who can reach this machine can read, upload and "
        "remove documents. Set PVA_AUTH_FILE (lines user:password[:admin]) to require one."
    )


def identity_line(user: str | None, access: Access) -> str:
    """“Logged in as **alice** (admin)” for the page header; empty when nobody is logged in."""
    if not user:
        return ""
    admin = " (admin)" if access.enabled and access.is_admin(user) else ""
    return f"Logged in as **{user}**{admin}"


def request_user(request: Any) -> str | None:
    """Who sent a web request: its ``username`` (``None`` without a login, or without a request)."""
    return getattr(request, "username", None) if request is not None else None
