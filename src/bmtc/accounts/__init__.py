"""Accounts: users with roles, API tokens, password hashing and an audit log of changes."""

from bmtc.accounts.model import (
    ROLES,
    SCOPES,
    AccountError,
    ApiToken,
    AuditEntry,
    DuplicateEmail,
    InvalidAccount,
    NewToken,
    Resolved,
    Role,
    Scope,
    UnknownToken,
    UnknownUser,
    User,
)
from bmtc.accounts.passwords import PasswordPolicyError
from bmtc.accounts.store import AccountStore

__all__ = [
    "ROLES",
    "SCOPES",
    "AccountError",
    "AccountStore",
    "ApiToken",
    "AuditEntry",
    "DuplicateEmail",
    "InvalidAccount",
    "NewToken",
    "PasswordPolicyError",
    "Resolved",
    "Role",
    "Scope",
    "UnknownToken",
    "UnknownUser",
    "User",
]
