"""Who may sign in, with which role: built-in accounts, single sign-on e-mails, the idle timeout.

All of it lives in the `[civicstat]` section of Streamlit's secrets file (.streamlit/secrets.toml,
never committed; .streamlit/secrets.example.toml shows the shape):

    [civicstat]
    idle_timeout_minutes = 30          # 0: sessions never time out

    [civicstat.roles]                  # single sign-on (st.login) users, by e-mail
    "manager@city.example" = "admin"

    [civicstat.users."alice"]          # built-in accounts: `civicstat add-user alice --role staff`
    role = "staff"
    password_hash = "scrypt$32768$8$1$..."

Anyone else is anonymous: public pages only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from civicstat.accounts.passwords import hash_password, is_valid_hash, password_problem
from civicstat.accounts.secrets_file import set_table

GRANTED_ROLES = ("staff", "admin")
DEFAULT_IDLE_MINUTES = 30.0
SECTION = "civicstat"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class AccessConfig:
    accounts: dict[str, Account] = field(default_factory=dict)
    email_roles: dict[str, str] = field(default_factory=dict)  # lower-case e-mail -> role
    idle_timeout_minutes: float = DEFAULT_IDLE_MINUTES
    problems: tuple[str, ...] = ()  # entries that were ignored, and why

    def role_for_email(self, email: object) -> str:
        if not isinstance(email, str):
            return "anonymous"
        return self.email_roles.get(email.strip().lower(), "anonymous")

    def role_for_account(self, name: object) -> str:
        account = self.accounts.get(name) if isinstance(name, str) else None
        return account.role if account else "anonymous"


def access_from_secrets(secrets: Mapping | None) -> AccessConfig:
    """Read the [civicstat] section; broken entries are skipped and listed in `problems`."""
    section = _mapping(secrets.get(SECTION) if secrets else None)
    problems: list[str] = []
    accounts: dict[str, Account] = {}
    for name, entry in _mapping(section.get("users")).items():
        entry = _mapping(entry)
        role, stored = entry.get("role"), entry.get("password_hash")
        if not NAME_PATTERN.match(str(name)):
            problems.append(f"account {name!r}: the name may use letters, digits and . _ @ -")
        elif role not in GRANTED_ROLES:
            problems.append(f"account {name!r}: role must be one of {', '.join(GRANTED_ROLES)}")
        elif not is_valid_hash(stored):
            problems.append(f"account {name!r}: password_hash is missing or not a scrypt hash")
        else:
            accounts[str(name)] = Account(str(name), role, stored)
    email_roles: dict[str, str] = {}
    for email, role in _mapping(section.get("roles")).items():
        if role in GRANTED_ROLES and "@" in str(email):
            email_roles[str(email).strip().lower()] = role
        else:
            problems.append(f"roles: {email!r} = {role!r} ignored (an e-mail and staff or admin)")
    idle = section.get("idle_timeout_minutes", DEFAULT_IDLE_MINUTES)
    if isinstance(idle, bool) or not isinstance(idle, int | float) or idle < 0:
        problems.append(f"idle_timeout_minutes = {idle!r} ignored: use minutes (0 = never)")
        idle = DEFAULT_IDLE_MINUTES
    return AccessConfig(accounts, email_roles, float(idle), tuple(problems))


def _mapping(value: object) -> Mapping:
    return value if isinstance(value, Mapping) else {}


class AccountError(ValueError):
    """An account cannot be added or removed as asked."""


def add_user(secrets_path: Path, name: str, role: str, password: str) -> bool:
    """Store `name` with `role` and a salted hash of `password`; True if it replaced an account."""
    if not NAME_PATTERN.match(name):
        raise AccountError("an account name is 1-64 letters, digits and . _ @ - (no spaces)")
    if role not in GRANTED_ROLES:
        raise AccountError(f"role must be one of {', '.join(GRANTED_ROLES)}")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    values = {"role": role, "password_hash": hash_password(password)}
    return set_table(secrets_path, (SECTION, "users", name), values)


def remove_user(secrets_path: Path, name: str) -> bool:
    """Remove account `name`; False when there was none."""
    return set_table(secrets_path, (SECTION, "users", name), None)
