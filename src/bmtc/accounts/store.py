"""Users, API tokens and their audit trail in the store.

Every change to a user or a token is written in the same transaction as the audit row that
records it, so the log can never miss a change nor record one that was rolled back. Audit
rows carry no secret and no hash: token secrets are never stored at all, and password
changes are recorded as the fact of a change.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, or_, select, update
from sqlalchemy.exc import IntegrityError

from bmtc.accounts import passwords
from bmtc.accounts.model import (
    ROLES,
    SCOPES,
    SYSTEM,
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
from bmtc.store.schema import api_tokens, audit_log, users

TOKEN_PREFIX = "bmtc_"
_SECRET_BYTES = 32
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet.
_SECRET_RE = re.compile(r"^bmtc_[A-Za-z0-9_-]{43}$")
PREFIX_LENGTH = 8
# Recording every use would make each authenticated request a write; once a minute is
# precise enough to tell a live token from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything written here was UTC.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _at(value: datetime) -> datetime:
    converted = _utc(value)
    assert converted is not None
    return converted


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    local, at, domain = value.rpartition("@")
    if (not at or not local or not domain or len(value) > 254
            or any(c.isspace() for c in value)):
        raise InvalidAccount(f"{email!r} is not an email address")
    return value


def _user(row: Mapping[Any, Any]) -> User:
    return User(id=row["id"], email=row["email"], display_name=row["display_name"],
                role=row["role"], organization_id=row["organization_id"],
                disabled=bool(row["disabled"]), created_at=_at(row["created_at"]),
                updated_at=_at(row["updated_at"]))


def _token(row: Mapping[Any, Any]) -> ApiToken:
    scopes: tuple[Scope, ...] = tuple(s for s in SCOPES if s in row["scopes"].split())
    return ApiToken(id=row["id"], user_id=row["user_id"], prefix=row["prefix"], scopes=scopes,
                    created_at=_at(row["created_at"]), expires_at=_utc(row["expires_at"]),
                    revoked_at=_utc(row["revoked_at"]),
                    last_used_at=_utc(row["last_used_at"]))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _user_snapshot(user: User) -> dict[str, object]:
    return {"email": user.email, "display_name": user.display_name, "role": user.role,
            "organization_id": user.organization_id, "disabled": user.disabled}


def _token_snapshot(token: ApiToken) -> dict[str, object]:
    return {"user_id": token.user_id, "prefix": token.prefix, "scopes": list(token.scopes),
            "expires_at": _iso(token.expires_at), "revoked_at": _iso(token.revoked_at)}


def _dump(value: dict[str, object] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def record_audit(conn: Connection, *, actor: str, action: str, entity: str, entity_id: str,
           before: dict[str, object] | None, after: dict[str, object] | None,
           at: datetime) -> None:
    conn.execute(audit_log.insert().values(
        at=at, actor=actor, action=action, entity=entity, entity_id=entity_id,
        before=_dump(before), after=_dump(after)))


def _role(role: str) -> Role:
    if role not in ROLES:
        raise InvalidAccount(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    return role


def _scopes(requested: Iterable[str], role: Role) -> tuple[Scope, ...]:
    wanted = {s.strip().lower() for s in requested if s.strip()}
    unknown = wanted - set(SCOPES)
    if unknown:
        raise InvalidAccount(f"unknown scope {', '.join(sorted(unknown))}; "
                             f"choose from {', '.join(SCOPES)}")
    if not wanted:
        raise InvalidAccount("a token needs at least one scope")
    if "admin" in wanted and role != "admin":
        raise InvalidAccount("only an admin user may hold a token with the admin scope")
    return tuple(s for s in SCOPES if s in wanted)


class AccountStore:
    """Accounts on a migrated store's engine (`Store(url).engine`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # Users ---------------------------------------------------------------------------------

    def add_user(self, email: str, password: str, *, role: str,
                 organization_id: str | None = None, display_name: str | None = None,
                 actor: str = SYSTEM) -> User:
        address = normalise_email(email)
        checked = _role(role)
        organization_id = (organization_id or "").strip() or None
        if checked == "member" and organization_id is None:
            raise InvalidAccount("a member must belong to an organization")
        password_hash = passwords.hash_password(password)
        now = _now()
        user = User(id=uuid.uuid4().hex, email=address,
                    display_name=(display_name or "").strip() or None, role=checked,
                    organization_id=organization_id, disabled=False, created_at=now,
                    updated_at=now)
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(users.c.id).where(users.c.email == address)).first():
                    raise DuplicateEmail(f"a user with email {address!r} already exists")
                conn.execute(users.insert().values(
                    id=user.id, email=user.email, display_name=user.display_name,
                    role=user.role, organization_id=user.organization_id,
                    password_hash=password_hash, disabled=False, created_at=now,
                    updated_at=now))
                record_audit(conn, actor=actor, action="user.add", entity="user", entity_id=user.id,
                       before=None, after=_user_snapshot(user), at=now)
        except IntegrityError:
            # Lost a race with a concurrent insert of the same address.
            raise DuplicateEmail(f"a user with email {address!r} already exists") from None
        return user

    def get_user(self, email_or_id: str) -> User | None:
        with self.engine.connect() as conn:
            row = self._find_user(conn, email_or_id)
        return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.email)).mappings().all()
        return [_user(r) for r in rows]

    def disable_user(self, email_or_id: str, *, actor: str = SYSTEM) -> User:
        return self._set_disabled(email_or_id, True, actor)

    def enable_user(self, email_or_id: str, *, actor: str = SYSTEM) -> User:
        return self._set_disabled(email_or_id, False, actor)

    def set_password(self, email_or_id: str, password: str, *, actor: str = SYSTEM) -> User:
        password_hash = passwords.hash_password(password)
        with self.engine.begin() as conn:
            before = self._user_or_fail(conn, email_or_id)
            now = _now()
            conn.execute(update(users).where(users.c.id == before.id).values(
                password_hash=password_hash, updated_at=now))
            record_audit(conn, actor=actor, action="user.set_password", entity="user",
                   entity_id=before.id, before=_user_snapshot(before),
                   after={**_user_snapshot(before), "password_changed": True}, at=now)
            return replace(before, updated_at=now)

    def authenticate(self, email: str, password: str) -> User | None:
        """The user whose email and password these are, if enabled; else None.

        An unknown address costs one verification like a known one, so response times do not
        tell which addresses have accounts.
        """
        try:
            address: str | None = normalise_email(email)
        except InvalidAccount:
            address = None
        with self.engine.connect() as conn:
            row = None if address is None else conn.execute(
                select(users).where(users.c.email == address)).mappings().first()
        if row is None:
            passwords.verify_password(passwords.dummy_hash(), password)
            return None
        result = passwords.verify_password(row["password_hash"], password)
        user = _user(row)
        if not result.ok or user.disabled:
            return None
        if result.new_hash is not None:
            self._rehash(user, row["password_hash"], result.new_hash)
        return user

    def _rehash(self, user: User, old_hash: str, new_hash: str) -> None:
        with self.engine.begin() as conn:
            # Only if nobody changed the password in the meantime.
            changed = conn.execute(update(users).where(
                users.c.id == user.id, users.c.password_hash == old_hash).values(
                password_hash=new_hash)).rowcount
            if changed:
                record_audit(conn, actor=user.id, action="user.rehash_password", entity="user",
                       entity_id=user.id, before=_user_snapshot(user),
                       after={**_user_snapshot(user), "password_rehashed": True}, at=_now())

    def _set_disabled(self, email_or_id: str, disabled: bool, actor: str) -> User:
        with self.engine.begin() as conn:
            before = self._user_or_fail(conn, email_or_id)
            if before.disabled == disabled:
                return before
            now = _now()
            conn.execute(update(users).where(users.c.id == before.id).values(
                disabled=disabled, updated_at=now))
            after = replace(before, disabled=disabled, updated_at=now)
            record_audit(conn, actor=actor, action="user.disable" if disabled else "user.enable",
                   entity="user", entity_id=before.id, before=_user_snapshot(before),
                   after=_user_snapshot(after), at=now)
            return after

    @staticmethod
    def _find_user(conn: Connection, email_or_id: str) -> Mapping[Any, Any] | None:
        key = email_or_id.strip()
        return conn.execute(select(users).where(
            or_(users.c.email == key.lower(), users.c.id == key))).mappings().first()

    def _user_or_fail(self, conn: Connection, email_or_id: str) -> User:
        row = self._find_user(conn, email_or_id)
        if row is None:
            raise UnknownUser(f"no user {email_or_id!r}")
        return _user(row)

    # Tokens --------------------------------------------------------------------------------

    def create_token(self, user: User | str, scopes: Iterable[str] = ("read",),
                     expires: timedelta | None = None, *, actor: str = SYSTEM) -> NewToken:
        """A new token for the user. The secret is in the answer and nowhere else."""
        if expires is not None and expires <= timedelta(0):
            raise InvalidAccount("a token must expire in the future")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
        with self.engine.begin() as conn:
            owner = self._user_or_fail(conn, user.id if isinstance(user, User) else user)
            if owner.disabled:
                raise InvalidAccount(f"user {owner.email!r} is disabled")
            now = _now()
            token = ApiToken(
                id=uuid.uuid4().hex, user_id=owner.id,
                prefix=secret[len(TOKEN_PREFIX):len(TOKEN_PREFIX) + PREFIX_LENGTH],
                scopes=_scopes(scopes, owner.role), created_at=now,
                expires_at=None if expires is None else now + expires, revoked_at=None,
                last_used_at=None)
            conn.execute(api_tokens.insert().values(
                id=token.id, user_id=token.user_id, token_hash=hash_secret(secret),
                prefix=token.prefix, scopes=" ".join(token.scopes), created_at=now,
                expires_at=token.expires_at))
            record_audit(conn, actor=actor, action="token.create", entity="api_token",
                   entity_id=token.id, before=None, after=_token_snapshot(token), at=now)
        return NewToken(token=token, secret=secret)

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        query = select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id)
        with self.engine.connect() as conn:
            if user is not None:
                owner = self._user_or_fail(conn, user)
                query = query.where(api_tokens.c.user_id == owner.id)
            rows = conn.execute(query).mappings().all()
        return [_token(r) for r in rows]

    def revoke_token(self, prefix_or_id: str, *, actor: str = SYSTEM) -> ApiToken:
        """Revoke the token with this id or display prefix (`bmtc_` optional); revoking a
        revoked token changes nothing."""
        key = prefix_or_id.strip()
        if _SECRET_RE.match(key):
            condition = api_tokens.c.token_hash == hash_secret(key)
        else:
            key = key.removeprefix(TOKEN_PREFIX).rstrip("…")
            condition = or_(api_tokens.c.id == key, api_tokens.c.prefix == key)
        with self.engine.begin() as conn:
            rows = conn.execute(select(api_tokens).where(condition)).mappings().all()
            if not rows:
                raise UnknownToken(f"no token {prefix_or_id!r}")
            if len(rows) > 1:
                raise InvalidAccount(f"{prefix_or_id!r} matches {len(rows)} tokens; "
                                     "give the token id")
            before = _token(rows[0])
            if before.revoked_at is not None:
                return before
            now = _now()
            conn.execute(update(api_tokens).where(api_tokens.c.id == before.id).values(
                revoked_at=now))
            after = replace(before, revoked_at=now)
            record_audit(conn, actor=actor, action="token.revoke", entity="api_token",
                   entity_id=before.id, before=_token_snapshot(before),
                   after=_token_snapshot(after), at=now)
            return after

    def resolve_token(self, secret: str) -> Resolved | None:
        """The enabled user and the token this secret belongs to, unless it is unknown,
        revoked or expired."""
        if not _SECRET_RE.match(secret):
            return None
        now = _now()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(api_tokens, *(c.label(f"owner_{c.name}") for c in users.c))
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(api_tokens.c.token_hash == hash_secret(secret))
            ).mappings().first()
            if row is None:
                return None
            token = _token(row)
            user = _user({c.name: row[f"owner_{c.name}"] for c in users.c})
            if (token.revoked_at is not None or user.disabled
                    or (token.expires_at is not None and token.expires_at <= now)):
                return None
            # Bookkeeping, not a change of state: not audited.
            if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
                conn.execute(update(api_tokens).where(api_tokens.c.id == token.id).values(
                    last_used_at=now))
                token = replace(token, last_used_at=now)
        return Resolved(user=user, token=token)

    # Audit ---------------------------------------------------------------------------------

    def audit_entries(self, entity: str | None = None,
                      entity_id: str | None = None) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.id)
        if entity is not None:
            query = query.where(audit_log.c.entity == entity)
        if entity_id is not None:
            query = query.where(audit_log.c.entity_id == entity_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [AuditEntry(id=r["id"], at=_at(r["at"]), actor=r["actor"], action=r["action"],
                           entity=r["entity"], entity_id=r["entity_id"],
                           before=json.loads(r["before"]) if r["before"] else None,
                           after=json.loads(r["after"]) if r["after"] else None)
                for r in rows]

