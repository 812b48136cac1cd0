"""Accounts: passwords, API tokens and login throttling for the members of a production.

Why here and not in the web layer: the CLI and the web app share one rule book.
Members are added by ``records.add_user`` (the role check lives there); this
module decides how they prove who they are:

- Passwords are hashed with Argon2id at OWASP's recommended minimum (19 MiB,
  2 passes, 1 lane): about 0.1 s on a 2-core VM, where argon2-cffi's default
  (RFC 9106's 64 MiB, 3 passes) took 0.7 s, so a burst of logins cannot tie up
  the server's workers. Hashes carry their parameters, so raising them later
  still verifies old ones. A new member gets a one-time password printed once.
- A one-time password (``user add``, an admin's reset) logs in once: that login must set a
  new password before it can do anything else (``PasswordChangeRequiredError``), and a
  second login with it is refused.
- Sessions end together: each member has a session generation, which every session cookie
  names; logging out, changing one's password and an admin's reset raise it, so every
  session of that member (a copied cookie too) stops working at once. An admin's reset also
  revokes the member's API tokens. A server-side session table would do the same with a
  read and a write per login; the generation is one integer read with the member's role,
  which every request reads anyway.
- API tokens are 32 random bytes shown once; only their SHA-256 is stored, so a
  leaked database holds no usable token (a token has full entropy, so a slow
  hash adds nothing).
- A burst of failed logins is slowed, then locked: after ``slow_after`` failures
  each further attempt must wait ``2 ** (failures - slow_after)`` seconds, and
  after ``lock_after`` failures the name is locked for ``lock_minutes``. Failures are
  counted per (folded) name *and* client address (``login_failures``, in the database so
  every server of a shared project sees them): a stranger guessing an admin's password
  locks only their own address, never the admin's; ``unlock`` clears a name's locks.
- The answers never tell a real name from an unknown one: unknown names are counted and
  locked the same way, every refusal has the same status and message (no name in it), and
  an unknown name is verified against a dummy Argon2 hash, one verification on each path,
  so the time is the same too.
- Names are looked up folded (``model.names.fold_user_name``): ``VIC`` logs in as ``vic``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, not_, or_, select, update

from setpiece.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from setpiece.model.enums import Role
from setpiece.model.names import fold_user_name
from setpiece.model.orm import ApiToken, LoginFailure, User, utcnow
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.records import UserView, add_user
from setpiece.production.views import jsonable

__all__ = [
    "LoginPolicy",
    "LoginRefusedError",
    "LoginThrottledError",
    "NewMember",
    "PasswordChangeRequiredError",
    "SessionMember",
    "TokenView",
    "add_member",
    "authenticate",
    "change_password",
    "end_sessions",
    "has_members",
    "hash_password",
    "issue_token",
    "list_tokens",
    "member",
    "reset_password",
    "revoke_tokens",
    "session_member",
    "unlock",
    "user_for_token",
]

TOKEN_PREFIX = "sp_"
MIN_PASSWORD = 12


class LoginRefusedError(PermissionDeniedError):
    """A wrong user name or password (which of the two is never said)."""

    http_status = 401
    code = "unauthorized"


class LoginThrottledError(PermissionDeniedError):
    """Too many failed logins: wait, or ask an admin."""

    http_status = 429
    code = "too_many_attempts"


class PasswordChangeRequiredError(PermissionDeniedError):
    """Logged in with a one-time password: nothing else until a new one is set."""

    code = "password_change_required"


CHANGE_PAGE = "/account/password"


@dataclass(frozen=True)
class LoginPolicy:
    """How a burst of failed logins is slowed and then locked (``[web]`` keys of the same names)."""

    slow_after: int = 3
    lock_after: int = 10
    lock_minutes: int = 15


@dataclass(frozen=True)
class SessionMember:
    """The member behind a session cookie, and whether they must set a password first."""

    user: UserView
    generation: int
    must_change: bool


@dataclass(frozen=True)
class TokenView:
    """An API token as its owner and the admins see it (never the token itself)."""

    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {name: jsonable(value) for name, value in vars(self).items()}


@dataclass(frozen=True)
class NewMember:
    """A member just added, with the one-time password to hand them (shown once).

    ``first``: they are the project's first member, so from now on every command needs a
    member (``Production.open``).
    """

    user: UserView
    password: str
    first: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**jsonable(self.user), "password": self.password}


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password``.

    Raises:
        InvalidInputError: The password is shorter than 12 characters or longer than 1024.
    """
    if not MIN_PASSWORD <= len(password) <= 1024:
        raise InvalidInputError(f"a password needs {MIN_PASSWORD} to 1024 characters")
    return str(_hasher().hash(password))


def _one_time_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def add_member(production: Production, name: str, role: str) -> NewMember:
    """Adds a member with a fresh one-time password (see ``records.add_user`` for the rules)."""
    password = _one_time_password()
    user = add_user(production, name, role, password_hash=hash_password(password))
    return NewMember(user, password, first=_member_count(production) == 1)


def has_members(production: Production) -> bool:
    """Whether the project has any member (no role needed: it says whether anyone can log in,
    and whether commands need ``--as``)."""
    return _member_count(production) > 0


def _member_count(production: Production) -> int:
    with production.transaction(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def reset_password(production: Production, name: str, password: str | None = None) -> NewMember:
    """Resets a member's password: their own, or anyone's for an admin. None makes a one-time
    one. Every session of the member ends and every API token of theirs is revoked.

    Raises:
        NotFoundError: No such member.
        PermissionDeniedError: Someone else's password, and the acting user is no admin.
        InvalidInputError: A chosen password shorter than 12 characters or over 1024.
    """
    chosen = password if password is not None else _one_time_password()
    digest = hash_password(chosen)
    with production.transaction() as session:
        user = _user_row(session, name)
        if user.name_key != fold_user_name(production.actor):
            production.authorize(session, "manage_users")
        user.password_hash = digest
        user.password_one_time = password is None
        user.one_time_spent = False
        user.failed_logins = 0
        user.locked_until = None
        user.session_generation = (user.session_generation or 0) + 1
        revoked = _revoke(session, user.id, None)
        record_event(
            session, production, "user", user.name, "password", note=f"{revoked} tokens revoked"
        )
        return NewMember(UserView(user.name, user.role), chosen)


def change_password(production: Production, current: str | None, new: str) -> int:
    """Sets the acting member's own password; every other session of theirs ends.

    ``current`` is the password they log in with; None is allowed only right after a login
    with a one-time password (the session proves it). API tokens are kept.

    Returns:
        The new session generation, for the session that made the change to carry on with.

    Raises:
        InvalidInputError: The new password is shorter than 12 characters or over 1024, or
            equals the current one, or no current password is given when one is needed.
        PermissionDeniedError: The current password is wrong.
        NotFoundError: The acting member no longer exists.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    digest = hash_password(new)
    with production.transaction() as session:
        user = _user_row(session, production.actor)
        if not current:
            if current == "" or not (user.password_one_time and user.one_time_spent):
                raise InvalidInputError("give your current password to set a new one")
        else:
            try:
                _hasher().verify(user.password_hash or "", current[:1024])
            except (VerificationError, InvalidHashError):
                raise PermissionDeniedError(
                    "the current password is wrong: nothing was changed"
                ) from None
            if current == new:
                raise InvalidInputError("the new password is the current one: choose another")
        user.password_hash = digest
        user.password_one_time = False
        user.one_time_spent = False
        user.session_generation = (user.session_generation or 0) + 1
        record_event(session, production, "user", user.name, "password", note="changed")
        return int(user.session_generation)


def end_sessions(production: Production) -> None:
    """Ends every session of the acting member (logging out ends them all, everywhere)."""
    with production.transaction() as session:
        user = _user_row(session, production.actor)
        user.session_generation = (user.session_generation or 0) + 1


def session_member(
    production: Production, name: str, generation: int | None = None
) -> SessionMember | None:
    """The member a session cookie names, or None when the account is gone or the session
    was ended (its generation is not the member's current one; None: any, for a login).
    No role needed."""
    with production.transaction(read_only=True) as session:
        row = session.connection().execute(_SESSION_OWNER, {"name": name}).first()
    if row is None or (generation is not None and row[2] != generation):
        return None
    name, role, current, one_time = row
    return SessionMember(UserView(name, Role(role).value), int(current), bool(one_time))


_SESSION_OWNER = select(
    User.name, User.role, User.session_generation, User.password_one_time
).where(User.name == bindparam("name"))


def member(production: Production, name: str) -> UserView:
    """The member called ``name`` (no role needed: it says who is logged in)."""
    with production.transaction(read_only=True) as session:
        user = _user_row(session, name)
        return UserView(user.name, user.role)


def _user_row(session: Any, name: str) -> User:
    user = session.scalars(select(User).where(User.name_key == fold_user_name(name))).first()
    if user is None:
        raise NotFoundError(f"no user {name!r}: 'setpiece user list' shows the members")
    assert isinstance(user, User)
    return user


def authenticate(
    production: Production,
    name: str,
    password: str,
    policy: LoginPolicy | None = None,
    address: str = "",
) -> UserView:
    """Checks a user name and password, counting failures against the name from ``address``.

    Args:
        production: The project (no actor needed).
        name: The name typed, in any case or Unicode form (it is folded).
        password: The password typed.
        policy: How failures slow and lock (``[web]``); the defaults when None.
        address: The client's address (the web's ``request.client.host``): failures from
            one address never lock the name anywhere else.

    Raises:
        LoginRefusedError: Unknown user or wrong password (the message does not say which).
        LoginThrottledError: Too many failures for this name from this address: it waits
            or is locked, even for the right password. Unknown names lock the same way, and
            the message names neither the user nor the reason.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    rules = policy or LoginPolicy()
    key, where = fold_user_name(name)[:100], address[:100]
    refused = LoginRefusedError("wrong user name or password")
    with production.transaction() as session:
        now = utcnow()
        # Locked for the update (PostgreSQL; SQLite's write transaction is one writer
        # already), so parallel guesses cannot lose a count.
        failed = session.get(LoginFailure, (key, where), with_for_update=True)
        if failed is not None and failed.locked_until is not None and failed.locked_until > now:
            wait = max(1, int((failed.locked_until - now).total_seconds() + 0.999))
            raise LoginThrottledError(
                f"too many failed logins: try again in {wait} s, "
                "or ask an admin to unlock you ('setpiece user unlock NAME')"
            )
        user = session.scalars(select(User).where(User.name_key == key)).first()
        stored = user.password_hash if user is not None else None
        try:
            # One verification on every path: a dummy hash for an unknown name, so the time
            # does not tell which names exist.
            _hasher().verify(stored or _dummy_hash(), password[:1024])
            if not stored:
                raise VerificationError("unknown user")
        except (VerificationError, InvalidHashError):
            _count_failure(session, production, rules, failed, key, where, user)
            session.commit()
            raise refused from None
        assert user is not None
        if user.password_one_time:
            if user.one_time_spent:
                # Spent: as wrong as any other password (the message does not tell).
                raise refused
            user.one_time_spent = True
        if failed is not None:
            session.delete(failed)
        return UserView(user.name, user.role)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """An Argon2 hash of a random password, made once, with the same cost as real ones."""
    if not _DUMMY:
        _DUMMY.append(str(_hasher().hash(secrets.token_urlsafe(15))))
    return _DUMMY[0]


def _count_failure(
    session: Any,
    production: Production,
    rules: LoginPolicy,
    failed: LoginFailure | None,
    key: str,
    address: str,
    user: User | None,
) -> None:
    """Counts one more failure for ``key`` from ``address``, slowing or locking it."""
    now = utcnow()
    quiet = now - timedelta(minutes=rules.lock_minutes)
    # Counters quiet for lock_minutes and not locked start again, and go from the table, so
    # names made up by a guesser do not pile up.
    stale = (
        LoginFailure.last_failed_at < quiet,
        or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until < now),
    )
    mine = and_(LoginFailure.name_key == key, LoginFailure.address == address)
    session.execute(
        delete(LoginFailure).where(*stale, not_(mine)),
        execution_options={"synchronize_session": False},
    )
    if failed is None:
        failed = _first_failure(session, key, address)
    elif failed.last_failed_at < quiet and not (failed.locked_until and failed.locked_until > now):
        failed.failures = 0
    failed.failures = (failed.failures or 0) + 1
    failed.last_failed_at = now
    if failed.failures >= rules.lock_after:
        failed.locked_until = now + timedelta(minutes=rules.lock_minutes)
        if user is not None:
            record_event(
                session,
                production,
                "user",
                user.name,
                "locked",
                note=f"failed logins from {address}",
            )
    elif failed.failures >= rules.slow_after:
        failed.locked_until = now + timedelta(seconds=2 ** (failed.failures - rules.slow_after))


def _first_failure(session: Any, key: str, address: str) -> LoginFailure:
    """A new counter for ``key`` from ``address``, or the one a parallel attempt just made."""
    from sqlalchemy.exc import IntegrityError

    fresh = LoginFailure(name_key=key, address=address, failures=0, last_failed_at=utcnow())
    try:
        with session.begin_nested():
            session.add(fresh)
    except IntegrityError:
        found = session.get(LoginFailure, (key, address), with_for_update=True)
        assert isinstance(found, LoginFailure)
        return found
    return fresh


def unlock(production: Production, name: str) -> int:
    """Clears every lock-out and failure count of member ``name`` (an admin's job).

    Returns:
        How many addresses were locked out or slowed for the name.

    Raises:
        NotFoundError: No such member.
        PermissionDeniedError: The acting user is no admin.
    """
    with production.transaction() as session:
        production.authorize(session, "manage_users")
        user = _user_row(session, name)
        now = utcnow()
        locked = session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.name_key == user.name_key, LoginFailure.locked_until > now)
        )
        session.execute(delete(LoginFailure).where(LoginFailure.name_key == user.name_key))
        user.failed_logins = 0
        user.locked_until = None
        record_event(session, production, "user", user.name, "unlock")
        return int(locked or 0)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def issue_token(production: Production, name: str, label: str = "") -> str:
    """A new API token for ``name``: the user themselves, or an admin for anyone. Shown once.

    Raises:
        NotFoundError: No such member.
        PermissionDeniedError: A token for someone else, and the acting user is no admin.
        InvalidInputError: A label over 100 characters.
    """
    if len(label) > 100:
        raise InvalidInputError("a token label may be at most 100 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with production.transaction() as session:
        user = _user_row(session, name)
        if user.name_key != fold_user_name(production.actor):
            production.authorize(session, "manage_users")
        session.add(ApiToken(user_id=user.id, token_hash=_digest(token), label=label))
        record_event(session, production, "user", user.name, "token", note=label or None)
    return token


# Built once: building the statement cost more than running it (measured in process).
_TOKEN_OWNER = (
    select(ApiToken.id, ApiToken.last_used_at, User.name, User.role)
    .join(User, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))
)


def user_for_token(production: Production, token: str) -> UserView | None:
    """The member a Bearer token belongs to, or None for an unknown or revoked token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with production.transaction(read_only=True) as session:
        # Plain columns (Core), not ORM objects: this runs on every API call.
        row = session.connection().execute(_TOKEN_OWNER, {"digest": _digest(token)}).first()
    if row is None:
        return None
    token_id, last_used, name, role = row
    now = utcnow()
    # Written at most once a minute, in its own write transaction: a write per API call, or a
    # read that takes the write lock in case it writes, would serialise the readers.
    if last_used is None or now - last_used > timedelta(minutes=1):
        with production.transaction() as session:
            session.connection().execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            )
    return UserView(name, Role(role).value)


def list_tokens(production: Production, name: str) -> list[TokenView]:
    """The API tokens of ``name``, oldest first: their own, or anyone's for an admin.

    Raises:
        NotFoundError: No such member.
        PermissionDeniedError: Someone else's tokens, and the acting user is no admin.
    """
    with production.transaction(read_only=True) as session:
        user = _user_row(session, name)
        if user.name != production.actor:
            production.authorize(session, "manage_users")
        rows = session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        ).all()
        return [TokenView(t.id, t.label, t.created_at, t.last_used_at, t.revoked_at) for t in rows]


def revoke_tokens(production: Production, name: str, token_id: int | None = None) -> int:
    """Revokes one API token of ``name`` (``token_id``), or all of them (None): their own, or
    anyone's for an admin. A revoked token answers 401 from then on.

    Returns:
        How many tokens were revoked.

    Raises:
        NotFoundError: No such member, or no token ``token_id`` of theirs.
        InvalidInputError: Token ``token_id`` was already revoked.
        PermissionDeniedError: Someone else's tokens, and the acting user is no admin.
    """
    with production.transaction() as session:
        user = _user_row(session, name)
        if user.name != production.actor:
            production.authorize(session, "manage_users")
        if token_id is not None:
            token = session.get(ApiToken, token_id)
            if token is None or token.user_id != user.id:
                raise NotFoundError(
                    f"{user.name} has no API token {token_id}: "
                    f"'setpiece user tokens {user.name}' lists them"
                )
            if token.revoked_at is not None:
                raise InvalidInputError(
                    f"API token {token_id} of {user.name} was already revoked "
                    f"at {token.revoked_at:%Y-%m-%d %H:%M:%S}"
                )
        revoked = _revoke(session, user.id, token_id)
        note = f"token {token_id}" if token_id is not None else f"{revoked} tokens"
        record_event(session, production, "user", user.name, "revoke", note=note)
        return revoked


def _revoke(session: Any, user_id: int, token_id: int | None) -> int:
    statement = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        statement = statement.where(ApiToken.id == token_id)
    return int(session.execute(statement.values(revoked_at=utcnow())).rowcount or 0)
