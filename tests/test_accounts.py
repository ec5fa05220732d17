"""Accounts on SQLite and PostgreSQL: password hashing, users, API tokens, the audit log, the
FastAPI authentication dependencies, the rate limiter and the `users` / `tokens` commands."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pytest
from argon2 import PasswordHasher
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

import bmtc.cli_accounts  # noqa: F401  (registers `users` and `tokens` on the CLI)
from bmtc.accounts import (
    AccountStore,
    DuplicateEmail,
    InvalidAccount,
    PasswordPolicyError,
    UnknownToken,
    UnknownUser,
    passwords,
)
from bmtc.accounts import store as account_store
from bmtc.cli import Failed, app
from bmtc.server import auth, problems
from bmtc.server.auth import Principal, RateLimiter, rate_limit, require
from bmtc.store.schema import api_tokens, audit_log, users
from bmtc.store.store import Store

PASSWORD = "correct horse battery"
runner = CliRunner()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as opened:
        yield opened


@pytest.fixture
def accounts(store: Store) -> AccountStore:
    return AccountStore(store.engine)


def _dump(store: Store, table: Table) -> str:
    """Every value of every row of the table, as one text to search."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(table)).all()
    return "\n".join(" | ".join(str(v) for v in row) for row in rows)


# Passwords -----------------------------------------------------------------------------------


def test_password_hash_round_trip_and_rejection() -> None:
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert passwords.verify_password(stored, PASSWORD) == passwords.Verified(True)
    assert not passwords.verify_password(stored, PASSWORD + "!").ok
    assert not passwords.verify_password("not a hash", PASSWORD).ok
    assert not passwords.verify_password(stored, "x" * (passwords.MAX_LENGTH + 1)).ok
    assert passwords.hash_password(PASSWORD) != stored  # salted


def test_weak_hash_is_upgraded_on_verification() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    result = passwords.verify_password(weak, PASSWORD)
    assert result.ok and result.new_hash is not None
    assert passwords.verify_password(result.new_hash, PASSWORD) == passwords.Verified(True)
    assert passwords.verify_password(weak, "wrong password!").new_hash is None


@pytest.mark.parametrize("bad", ["", "short", "elevenchars", " " * 20, "x" * 1025])
def test_password_policy(bad: str) -> None:
    with pytest.raises(PasswordPolicyError):
        passwords.hash_password(bad)


def test_short_password_is_refused_and_nothing_is_written(accounts: AccountStore,
                                                          store: Store) -> None:
    with pytest.raises(PasswordPolicyError, match="at least 12"):
        accounts.add_user("ann@example.com", "tooshort", role="analyst")
    assert accounts.list_users() == [] and accounts.audit_entries() == []
    user = accounts.add_user("ann@example.com", PASSWORD, role="analyst")
    with pytest.raises(PasswordPolicyError):
        accounts.set_password(user.email, "tooshort")
    assert accounts.authenticate("ann@example.com", PASSWORD) == user


# Users ---------------------------------------------------------------------------------------


def test_users_are_added_listed_and_unique_by_address(accounts: AccountStore) -> None:
    ann = accounts.add_user(" Ann@Example.com ", PASSWORD, role="analyst", display_name="Ann")
    assert ann.email == "ann@example.com" and ann.display_name == "Ann" and not ann.disabled
    with pytest.raises(DuplicateEmail):
        accounts.add_user("ANN@example.com", PASSWORD, role="admin")
    with pytest.raises(InvalidAccount, match="unknown role"):
        accounts.add_user("bob@example.com", PASSWORD, role="root")
    with pytest.raises(InvalidAccount, match="not an email"):
        accounts.add_user("bob", PASSWORD, role="analyst")
    bob = accounts.add_user("bob@example.com", PASSWORD, role="public")
    assert [u.email for u in accounts.list_users()] == ["ann@example.com", "bob@example.com"]
    assert accounts.get_user(bob.id) == bob and accounts.get_user("ANN@example.com") == ann
    with pytest.raises(UnknownUser):
        accounts.disable_user("nobody@example.com")


def test_member_requires_an_organization(accounts: AccountStore, store: Store) -> None:
    with pytest.raises(InvalidAccount, match="organization"):
        accounts.add_user("m@example.com", PASSWORD, role="member")
    with pytest.raises(InvalidAccount, match="organization"):
        accounts.add_user("m@example.com", PASSWORD, role="member", organization_id="  ")
    member = accounts.add_user("m@example.com", PASSWORD, role="member",
                               organization_id="redwood-materials")
    assert member.organization_id == "redwood-materials"
    # The database holds the rule too, whoever writes to it.
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(users).values(
            id="x" * 32, email="raw@example.com", role="member", password_hash="h",
            disabled=False, created_at=now, updated_at=now))


def test_authentication(accounts: AccountStore, monkeypatch: pytest.MonkeyPatch) -> None:
    ann = accounts.add_user("ann@example.com", PASSWORD, role="analyst")
    assert accounts.authenticate("ANN@example.com", PASSWORD) == ann
    assert accounts.authenticate("ann@example.com", PASSWORD + "x") is None

    verified: list[str] = []
    real = passwords.verify_password

    def counting(stored_hash: str, password: str) -> passwords.Verified:
        verified.append(stored_hash)
        return real(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    # A stranger costs a verification like a user does, against a hash nobody matches.
    assert accounts.authenticate("nobody@example.com", PASSWORD) is None
    assert verified == [passwords.dummy_hash()]
    assert accounts.authenticate("not an address", PASSWORD) is None
    assert len(verified) == 2

    accounts.disable_user(ann.email)
    assert accounts.authenticate(ann.email, PASSWORD) is None
    assert len(verified) == 3
    accounts.enable_user(ann.email)
    assert accounts.authenticate(ann.email, PASSWORD) is not None


def test_login_upgrades_a_weak_hash(accounts: AccountStore, store: Store) -> None:
    ann = accounts.add_user("ann@example.com", PASSWORD, role="analyst")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with store.engine.begin() as conn:
        conn.execute(update(users).values(password_hash=weak))
    assert accounts.authenticate(ann.email, PASSWORD) == ann
    with store.engine.connect() as conn:
        upgraded = conn.execute(select(users.c.password_hash)).scalar_one()
    assert upgraded != weak and passwords.verify_password(upgraded, PASSWORD).new_hash is None
    last = accounts.audit_entries()[-1]
    assert last.action == "user.rehash_password" and last.actor == ann.id
    assert weak not in _dump(store, audit_log) and upgraded not in _dump(store, audit_log)


# Tokens --------------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_resolve(accounts: AccountStore, store: Store) -> None:
    ann = accounts.add_user("ann@example.com", PASSWORD, role="analyst",
                            organization_id="acme")
    created = accounts.create_token(ann, ["submit", "read", "read"])
    secret = created.secret
    assert secret.startswith("bmtc_") and len(secret) == 5 + 43
    assert created.token.prefix == secret[5:13] and created.token.scopes == ("read", "submit")
    for table in (api_tokens, audit_log, users):
        text = _dump(store, table)
        assert secret[5:] not in text, table.name
    assert hashlib.sha256(secret.encode()).hexdigest() in _dump(store, api_tokens)

    resolved = accounts.resolve_token(secret)
    assert resolved is not None
    assert resolved.user == ann and resolved.scopes == ("read", "submit")
    assert resolved.token.last_used_at is not None
    assert accounts.list_tokens(ann.email)[0].last_used_at == resolved.token.last_used_at
    for wrong in ("", "bmtc_", secret[:-1] + ("A" if secret[-1] != "A" else "B"), secret + "x",
                  "Bearer " + secret):
        assert accounts.resolve_token(wrong) is None


def test_revoked_expired_and_disabled_tokens_fail(accounts: AccountStore,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ann = accounts.add_user("ann@example.com", PASSWORD, role="analyst")
    revoked = accounts.create_token(ann)
    expiring = accounts.create_token(ann, expires=timedelta(days=1))
    lasting = accounts.create_token(ann)

    by_prefix = accounts.revoke_token("bmtc_" + revoked.token.prefix)
    assert by_prefix.id == revoked.token.id and by_prefix.revoked_at is not None
    assert accounts.resolve_token(revoked.secret) is None
    assert accounts.revoke_token(revoked.token.id) == by_prefix  # already revoked: no change

    assert accounts.resolve_token(expiring.secret) is not None
    later = datetime.now(UTC) + timedelta(days=2)
    monkeypatch.setattr(account_store, "_now", lambda: later)
    assert accounts.resolve_token(expiring.secret) is None
    assert accounts.resolve_token(lasting.secret) is not None
    monkeypatch.undo()

    accounts.disable_user(ann.email)
    assert accounts.resolve_token(lasting.secret) is None
    with pytest.raises(InvalidAccount, match="disabled"):
        accounts.create_token(ann)
    accounts.enable_user(ann.email)
    assert accounts.resolve_token(lasting.secret) is not None
    assert accounts.resolve_token(revoked.secret) is None


def test_token_creation_and_revocation_are_checked(accounts: AccountStore,
                                                   store: Store) -> None:
    ann = accounts.add_user("ann@example.com", PASSWORD, role="analyst")
    root = accounts.add_user("root@example.com", PASSWORD, role="admin")
    with pytest.raises(InvalidAccount, match="unknown scope"):
        accounts.create_token(ann, ["write"])
    with pytest.raises(InvalidAccount, match="at least one scope"):
        accounts.create_token(ann, [])
    with pytest.raises(InvalidAccount, match="admin scope"):
        accounts.create_token(ann, ["admin"])
    with pytest.raises(InvalidAccount, match="future"):
        accounts.create_token(ann, expires=timedelta(0))
    with pytest.raises(UnknownUser):
        accounts.create_token("nobody@example.com")
    assert accounts.create_token(root, ["admin"]).token.scopes == ("admin",)

    first, second = accounts.create_token(ann), accounts.create_token(ann)
    with store.engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == second.token.id)
                     .values(prefix=first.token.prefix))
    with pytest.raises(InvalidAccount, match="matches 2 tokens"):
        accounts.revoke_token(first.token.prefix)
    assert accounts.revoke_token(first.secret).id == first.token.id  # the whole secret works
    with pytest.raises(UnknownToken):
        accounts.revoke_token("nothing")


# Audit ---------------------------------------------------------------------------------------


def test_every_write_is_audited_without_secrets(accounts: AccountStore, store: Store) -> None:
    ann = accounts.add_user("ann@example.com", PASSWORD, role="analyst", actor="admin-1")
    accounts.set_password(ann.email, PASSWORD + " two")
    accounts.disable_user(ann.email)
    accounts.disable_user(ann.email)  # no change, so no entry
    accounts.enable_user(ann.email)
    created = accounts.create_token(ann, ["read"], timedelta(days=3))
    accounts.revoke_token(created.token.prefix)
    accounts.revoke_token(created.token.prefix)
    accounts.resolve_token(created.secret)
    accounts.authenticate(ann.email, "a wrong password")

    entries = accounts.audit_entries()
    assert [(e.action, e.entity) for e in entries] == [
        ("user.add", "user"), ("user.set_password", "user"), ("user.disable", "user"),
        ("user.enable", "user"), ("token.create", "api_token"), ("token.revoke", "api_token"),
    ]
    assert entries[0].actor == "admin-1" and {e.actor for e in entries[1:]} == {"system"}
    assert all(e.at.tzinfo is not None for e in entries)
    assert [e.entity_id for e in entries] == [ann.id] * 4 + [created.token.id] * 2
    add, password, disable, _enable, create, revoke = entries
    assert add.before is None and add.after is not None and add.after["role"] == "analyst"
    assert password.after == {**(password.before or {}), "password_changed": True}
    assert disable.before is not None and disable.before["disabled"] is False
    assert disable.after is not None and disable.after["disabled"] is True
    assert create.before is None and create.after is not None
    assert create.after["scopes"] == ["read"] and create.after["expires_at"]
    assert revoke.before is not None and revoke.before["revoked_at"] is None
    assert revoke.after is not None and revoke.after["revoked_at"]
    assert accounts.audit_entries("api_token", created.token.id) == [create, revoke]

    logged = _dump(store, audit_log)
    with store.engine.connect() as conn:
        hashes = [*conn.execute(select(users.c.password_hash)).scalars(),
                  *conn.execute(select(api_tokens.c.token_hash)).scalars()]
    for secret in (PASSWORD, created.secret[5:], *hashes):
        assert secret not in logged
    assert "$argon2" not in logged and "hash" not in logged


def test_a_failed_write_leaves_no_audit_row(accounts: AccountStore) -> None:
    accounts.add_user("ann@example.com", PASSWORD, role="analyst")
    with pytest.raises(DuplicateEmail):
        accounts.add_user("ann@example.com", PASSWORD, role="analyst")
    assert len(accounts.audit_entries()) == 1


# HTTP ----------------------------------------------------------------------------------------


def _app(store: Store, limiter: RateLimiter | None = None) -> FastAPI:
    api = FastAPI()
    problems.install(api)
    auth.install(api)
    api.state.store = store

    @api.get("/report")
    def report(principal: Annotated[Principal, Depends(require("analyst"))]) -> dict[str, Any]:
        return {"user_id": principal.user_id, "role": principal.role}

    @api.post("/submissions", dependencies=[Depends(require(scope="submit"))])
    def submit() -> dict[str, str]:
        return {"status": "accepted"}

    @api.get("/whoami")
    def whoami(principal: auth.CurrentPrincipal) -> dict[str, Any]:
        return {"role": principal.role, "scopes": sorted(principal.scopes)}

    login_limiter = RateLimiter(rate=0.5, burst=2) if limiter is None else limiter

    @api.post("/login", dependencies=[Depends(rate_limit(login_limiter, per="client"))])
    def login() -> dict[str, str]:
        return {"status": "ok"}

    return api


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(_app(store)) as test_client:
        yield test_client


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_roles_are_enforced_over_http(client: TestClient, accounts: AccountStore) -> None:
    member = accounts.add_user("m@example.com", PASSWORD, role="member", organization_id="o")
    analyst = accounts.add_user("a@example.com", PASSWORD, role="analyst")
    member_token = accounts.create_token(member).secret
    analyst_token = accounts.create_token(analyst, ["read", "submit"]).secret

    anonymous = client.get("/report")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.headers["content-type"] == "application/problem+json"
    body = anonymous.json()
    assert body["type"] == "/problems/unauthorized" and body["status"] == 401
    assert body["instance"] == "/report"

    forbidden = client.get("/report", headers=_bearer(member_token))
    assert forbidden.status_code == 403 and forbidden.json()["type"] == "/problems/forbidden"
    assert "analyst" in forbidden.json()["detail"]

    allowed = client.get("/report", headers=_bearer(analyst_token))
    assert allowed.status_code == 200
    assert allowed.json() == {"user_id": analyst.id, "role": "analyst"}

    assert client.get("/whoami").json() == {"role": "public", "scopes": []}
    assert client.get("/whoami", headers=_bearer(member_token)).json() == {
        "role": "member", "scopes": ["read"]}


def test_bad_credentials_are_refused_not_downgraded(client: TestClient,
                                                    accounts: AccountStore) -> None:
    analyst = accounts.add_user("a@example.com", PASSWORD, role="analyst")
    token = accounts.create_token(analyst)
    accounts.revoke_token(token.token.id)
    for headers in (_bearer(token.secret), _bearer("bmtc_nonsense"),
                    {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer"}):
        response = client.get("/whoami", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer error=")
    assert 'error="invalid_token"' in client.get(
        "/whoami", headers=_bearer(token.secret)).headers["www-authenticate"]


def test_scopes_are_enforced_over_http(client: TestClient, accounts: AccountStore) -> None:
    analyst = accounts.add_user("a@example.com", PASSWORD, role="analyst")
    reader = accounts.create_token(analyst, ["read"]).secret
    submitter = accounts.create_token(analyst, ["submit"]).secret
    assert client.post("/submissions").status_code == 401
    narrow = client.post("/submissions", headers=_bearer(reader))
    assert narrow.status_code == 403
    assert 'error="insufficient_scope"' in narrow.headers["www-authenticate"]
    assert client.post("/submissions", headers=_bearer(submitter)).status_code == 200


def test_require_refuses_unknown_names() -> None:
    with pytest.raises(ValueError):
        require()
    with pytest.raises(ValueError):
        require("root")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        require(scope="write")  # type: ignore[arg-type]


# Rate limiting -------------------------------------------------------------------------------


def test_rate_limiter_refills_and_bounds_its_memory() -> None:
    now = [100.0]
    limiter = RateLimiter(rate=2.0, burst=3, max_keys=4, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.hit("a") == pytest.approx(0.5)
    assert limiter.hit("b") == 0.0  # buckets are per key
    now[0] += 0.5
    assert limiter.hit("a") == 0.0 and limiter.hit("a") > 0
    for n in range(100):
        limiter.hit(f"key-{n}")
    assert limiter.tracked_keys == 4
    with pytest.raises(ValueError):
        RateLimiter(rate=0, burst=1)


def test_rate_limit_answers_429_with_retry_after(store: Store) -> None:
    now = [0.0]
    limiter = RateLimiter(rate=0.25, burst=2, clock=lambda: now[0])
    with TestClient(_app(store, limiter)) as client:
        assert [client.post("/login").status_code for _ in range(2)] == [200, 200]
        limited = client.post("/login")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "4"
        assert limited.json()["type"] == "/problems/rate-limited"
        now[0] += 4
        assert client.post("/login").status_code == 200


# Command line --------------------------------------------------------------------------------


def _cli(*args: str, url: str, input: str | None = None) -> Any:
    return runner.invoke(app, [*args, "--db", url], input=input)


def test_cli_users_and_tokens(store_url: str) -> None:
    added = _cli("users", "add", "Ann@Example.com", "--role", "analyst", "--name", "Ann",
                 "--password-stdin", "--json", url=store_url, input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["email"] == "ann@example.com"
    prompted = _cli("users", "add", "root@example.com", "--role", "admin", url=store_url,
                    input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output and "root@example.com (admin)" in prompted.output

    member = _cli("users", "add", "m@example.com", "--role", "member", "--password-stdin",
                  url=store_url, input=PASSWORD + "\n")
    assert isinstance(member.exception, Failed) and "organization" in str(member.exception)
    short = _cli("users", "add", "s@example.com", "--role", "analyst", "--password-stdin",
                 url=store_url, input="short\n")
    assert isinstance(short.exception, Failed) and "12" in str(short.exception)
    assert _cli("users", "add", "x@example.com", "--role", "root", url=store_url).exit_code == 2

    listed = json.loads(_cli("users", "list", "--json", url=store_url).stdout)
    assert [u["email"] for u in listed] == ["ann@example.com", "root@example.com"]
    assert all("password_hash" not in u for u in listed)
    table = _cli("users", "list", url=store_url)
    assert table.exit_code == 0 and "2 users" in table.stdout

    created = _cli("tokens", "create", "ann@example.com", "--scope", "read", "--scope",
                   "submit", "--expires-days", "30", url=store_url)
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("bmtc_") and "\n" not in secret
    assert "cannot be shown again" in created.stderr

    with Store(store_url) as opened:
        accounts = AccountStore(opened.engine)
        resolved = accounts.resolve_token(secret)
        assert resolved is not None and resolved.scopes == ("read", "submit")
        assert resolved.token.expires_at is not None
        assert secret[5:] not in _dump(opened, api_tokens) + _dump(opened, audit_log)

    tokens = json.loads(_cli("tokens", "list", "ann@example.com", "--json",
                             url=store_url).stdout)
    assert len(tokens) == 1 and "secret" not in tokens[0]
    assert tokens[0]["prefix"] == secret[5:13]
    wrong_scope = _cli("tokens", "create", "ann@example.com", "--scope", "admin", url=store_url)
    assert isinstance(wrong_scope.exception, Failed)

    revoked = _cli("tokens", "revoke", "bmtc_" + tokens[0]["prefix"], url=store_url)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    missing = _cli("tokens", "revoke", "nothing1", url=store_url)
    assert isinstance(missing.exception, Failed)

    another = _cli("tokens", "create", "ann@example.com", "--json", url=store_url)
    other_secret = json.loads(another.stdout)["secret"]
    disabled = _cli("users", "disable", "ann@example.com", url=store_url)
    assert disabled.exit_code == 0 and "disabled" in disabled.stdout
    with Store(store_url) as opened:
        accounts = AccountStore(opened.engine)
        assert accounts.resolve_token(secret) is None
        assert accounts.resolve_token(other_secret) is None
        assert [e.action for e in accounts.audit_entries()] == [
            "user.add", "user.add", "token.create", "token.revoke", "token.create",
            "user.disable"]
    unknown = _cli("users", "disable", "nobody@example.com", url=store_url)
    assert isinstance(unknown.exception, Failed)
