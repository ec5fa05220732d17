"""Who may use the platform: users, their roles, API tokens and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

Role = Literal["public", "member", "analyst", "admin"]
Scope = Literal["read", "submit", "admin"]

# Ordered from least to most trusted: a role includes everything the roles before it may do.
ROLES: tuple[Role, ...] = get_args(Role)
SCOPES: tuple[Scope, ...] = get_args(Scope)
SYSTEM = "system"


def role_rank(role: str) -> int:
    return ROLES.index(role)


class AccountError(Exception):
    """A request about accounts that cannot be carried out (bad input, unknown user...)."""


class InvalidAccount(AccountError):
    pass


class DuplicateEmail(AccountError):
    pass


class UnknownUser(AccountError):
    pass


class UnknownToken(AccountError):
    pass


@dataclass(frozen=True)
class User:
    id: str
    email: str
    display_name: str | None
    role: Role
    organization_id: str | None
    disabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ApiToken:
    id: str
    user_id: str
    prefix: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def display(self) -> str:
        return f"bmtc_{self.prefix}…"


@dataclass(frozen=True)
class NewToken:
    """A token just created. `secret` exists only here: the store keeps its hash."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Resolved:
    user: User
    token: ApiToken

    @property
    def scopes(self) -> tuple[Scope, ...]:
        return self.token.scopes


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, object] | None
    after: dict[str, object] | None
