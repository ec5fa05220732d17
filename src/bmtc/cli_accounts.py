"""The account commands of the `bmtc` CLI: `bmtc users ...` and `bmtc tokens ...`.

They act as "system" in the audit log: whoever can run them can open the database directly.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated, Any

import typer

from bmtc.accounts import ROLES, SCOPES, AccountError, AccountStore, ApiToken, User
from bmtc.cli import DbOption, Failed, JsonOption, _print_json, _store, _table, app, console, errors

users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")

EmailArgument = Annotated[str, typer.Argument(metavar="EMAIL", help="The user's email.")]


def _user_row(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "display_name": user.display_name,
            "role": user.role, "organization_id": user.organization_id,
            "disabled": user.disabled, "created_at": user.created_at.isoformat(),
            "updated_at": user.updated_at.isoformat()}


def _token_row(token: ApiToken) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {"id": token.id, "user_id": token.user_id, "prefix": token.prefix,
            "display": token.display, "scopes": list(token.scopes),
            "created_at": iso(token.created_at), "expires_at": iso(token.expires_at),
            "revoked_at": iso(token.revoked_at), "last_used_at": iso(token.last_used_at)}


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, so that `printf '%s\n' "$PW" | bmtc users add ...` works as expected.
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@users_app.command("add")
def users_add(
    email: EmailArgument,
    role: Annotated[str, typer.Option("--role", help="One of: " + ", ".join(ROLES))],
    org: Annotated[str | None, typer.Option(
        "--org", help="Organization id (required for members).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin instead of "
                                 "prompting.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user; the password is prompted for (hidden) or read from stdin."""
    if role not in ROLES:
        raise typer.BadParameter(f"{role!r}; choose one of {', '.join(ROLES)}",
                                 param_hint="--role")
    if role == "member" and not (org or "").strip():
        # Checked here too, so the operator is not asked for a password that is then refused.
        raise Failed("a member must belong to an organization (--org)")
    password = _read_password(password_stdin)
    with _store(db) as store:
        try:
            user = AccountStore(store.engine).add_user(
                email, password, role=role, organization_id=org, display_name=name)
        except AccountError as exc:
            raise Failed(str(exc)) from None
    if as_json:
        _print_json(_user_row(user))
        return
    console.print(f"Added {user.email} ({user.role}"
                  + (f", {user.organization_id}" if user.organization_id else "")
                  + f"), id {user.id}")


@users_app.command("list")
def users_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List users."""
    with _store(db) as store:
        rows = [_user_row(u) for u in AccountStore(store.engine).list_users()]
    if as_json:
        _print_json(rows)
        return
    console.print(_table(f"{len(rows)} users", rows,
                         ["email", "display_name", "role", "organization_id", "disabled",
                          "created_at", "id"]))


def _set_disabled(email: str, disabled: bool, db: str | None) -> None:
    with _store(db) as store:
        accounts = AccountStore(store.engine)
        try:
            user = (accounts.disable_user(email) if disabled else accounts.enable_user(email))
        except AccountError as exc:
            raise Failed(str(exc)) from None
    console.print(f"{user.email} is {'disabled' if user.disabled else 'enabled'}.")


@users_app.command("disable")
def users_disable(email: EmailArgument, db: DbOption = None) -> None:
    """Disable a user: log-in and all their tokens stop working."""
    _set_disabled(email, True, db)


@users_app.command("enable")
def users_enable(email: EmailArgument, db: DbOption = None) -> None:
    """Enable a disabled user again."""
    _set_disabled(email, False, db)


@tokens_app.command("create")
def tokens_create(
    email: EmailArgument,
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="Scope (repeatable): " + ", ".join(SCOPES) + "; default read.")]
    = None,
    expires_days: Annotated[int | None, typer.Option(
        "--expires-days", min=1, help="Expire after N days; default never.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token and print its secret. It is shown this once and never stored."""
    expires = None if expires_days is None else timedelta(days=expires_days)
    with _store(db) as store:
        try:
            created = AccountStore(store.engine).create_token(email, scope or ["read"], expires)
        except AccountError as exc:
            raise Failed(str(exc)) from None
    if as_json:
        _print_json({**_token_row(created.token), "secret": created.secret})
        return
    token = created.token
    errors.print(f"Token {token.display} (id {token.id}) for {email}, scopes "
                 f"{' '.join(token.scopes)}, "
                 + (f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC."
                    if token.expires_at else "does not expire.")
                 + " Store the secret now: it cannot be shown again.")
    # The secret alone on stdout, so that `TOKEN=$(bmtc tokens create ...)` captures it.
    sys.stdout.write(created.secret + "\n")


@tokens_app.command("list")
def tokens_list(
    email: Annotated[str | None, typer.Argument(
        metavar="EMAIL", help="Only this user's tokens.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List tokens (never their secrets)."""
    with _store(db) as store:
        try:
            rows = [_token_row(t) for t in AccountStore(store.engine).list_tokens(email)]
        except AccountError as exc:
            raise Failed(str(exc)) from None
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        row["scopes"] = " ".join(row["scopes"])
    console.print(_table(f"{len(rows)} tokens", rows,
                         ["display", "id", "user_id", "scopes", "created_at", "expires_at",
                          "revoked_at", "last_used_at"]))


@tokens_app.command("revoke")
def tokens_revoke(
    key: Annotated[str, typer.Argument(
        metavar="PREFIX_OR_ID", help="The token's id or its prefix (bmtc_XXXXXXXX).")],
    db: DbOption = None,
) -> None:
    """Revoke a token; it stops working at once."""
    with _store(db) as store:
        try:
            token = AccountStore(store.engine).revoke_token(key)
        except AccountError as exc:
            raise Failed(str(exc)) from None
    console.print(f"Token {token.display} (id {token.id}) is revoked.")
