"""Organiser accounts: passwords, logins with a temporary lock, roles.

The rule that an organisation is never left without an administrator lives
here, so the dashboard and the command line cannot disagree about it.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models import Organiser, Role
from portal.models.types import utcnow

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
#: Failed sign-ins, from all addresses together, that lock an account for LOCK_DURATION.
#: One address is throttled long before this (LOGIN_ACCOUNT_RATE_LIMIT, services/limits.py),
#: so locking an account takes several addresses, and an administrator can unlock it.
MAX_FAILED_LOGINS = 20
LOCK_DURATION = timedelta(minutes=15)
HASH_METHOD = "scrypt"
_COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")


class AccountError(ValueError):
    """A rule about accounts was broken; the message is meant for the organiser."""


class WrongPassword(AccountError):
    """The current password given to confirm a change is not the account's."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """Why this password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_l("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        return str(_l("Use at most %(count)d characters.", count=MAX_PASSWORD_LENGTH))
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        return str(_l("This password is too common; choose another."))
    stripped = lowered.rstrip("0123456789!.?")
    if stripped in common_passwords():
        return str(_l("This password is too common; choose another."))
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


# A hash of a random value, checked against for unknown emails so that both
# answers take about as long as each other.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-password-" + str(id(object())))
    return _DUMMY_HASH


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(str(_l("Enter a valid email address."))) from exc


def find_by_email(email: str) -> Organiser | None:
    return db.session.scalar(db.select(Organiser).where(db.func.lower(Organiser.email) == email.strip().lower()))


def create_organiser(*, email: str, name: str, role: Role | str, password: str) -> Organiser:
    """A new, active account; raises AccountError for a taken email or weak password."""
    email = normalise_email(email)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise AccountError(str(_l("Enter a name of at most 200 characters.")))
    try:
        role = Role(role)
    except ValueError as exc:
        raise AccountError(str(_l("Choose a role: admin, organiser or viewer."))) from exc
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    if find_by_email(email):
        raise AccountError(str(_l("An account with this email already exists.")))
    organiser = Organiser(email=email, name=name, role=role, password_hash=hash_password(password))
    db.session.add(organiser)
    db.session.flush()
    return organiser


class LoginResult:
    """What happened to a login attempt: the organiser, or why not (never shown as-is)."""

    def __init__(self, organiser: Organiser | None, reason: str | None) -> None:
        self.organiser = organiser
        self.reason = reason  # None, "unknown", "wrong_password", "locked", "inactive"

    @property
    def ok(self) -> bool:
        return self.reason is None


def authenticate(email: str, password: str) -> LoginResult:
    """Check a login; counts failures and locks the account for a while after too many.

    The caller shows the same message whatever the reason, so the answer does
    not tell whether an email has an account.
    """
    organiser = find_by_email(email or "")
    if organiser is None:
        check_password_hash(_dummy_hash(), password or "")
        return LoginResult(None, "unknown")
    now = utcnow()
    if organiser.locked_until and organiser.locked_until > now:
        check_password_hash(_dummy_hash(), password or "")
        return LoginResult(organiser, "locked")
    if not check_password_hash(organiser.password_hash, password or ""):
        organiser.failed_logins = (organiser.failed_logins or 0) + 1
        if organiser.failed_logins >= MAX_FAILED_LOGINS:
            organiser.locked_until = now + LOCK_DURATION
            organiser.failed_logins = 0
        return LoginResult(organiser, "wrong_password")
    if not organiser.active:
        return LoginResult(organiser, "inactive")
    organiser.failed_logins = 0
    organiser.locked_until = None
    organiser.last_login_at = now
    return LoginResult(organiser, None)


def _active_admin_count() -> int:
    return db.session.scalar(
        db.select(db.func.count()).select_from(Organiser)
        .where(Organiser.role == Role.ADMIN, Organiser.active.is_(True))
    )


def _would_lose_last_admin(organiser: Organiser) -> bool:
    return organiser.role == Role.ADMIN and organiser.active and _active_admin_count() <= 1


def change_role(organiser: Organiser, role: Role | str) -> dict:
    """Set the role; refuses to demote the last active admin. Returns the changes."""
    role = Role(role)
    if role == organiser.role:
        return {}
    if role != Role.ADMIN and _would_lose_last_admin(organiser):
        raise AccountError(str(_l("This is the last active administrator; make someone else an administrator first.")))
    old = organiser.role
    organiser.role = role
    return {"role": (old, role)}


def set_active(organiser: Organiser, active: bool) -> dict:
    """Deactivate or reactivate; refuses to deactivate the last active admin."""
    if organiser.active == active:
        return {}
    if not active and _would_lose_last_admin(organiser):
        raise AccountError(str(_l("This is the last active administrator; make someone else an administrator first.")))
    organiser.active = active
    if active:
        organiser.failed_logins = 0
        organiser.locked_until = None
    return {"active": (not active, active)}


def set_password(organiser: Organiser, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    organiser.password_hash = hash_password(password)


def ensure_demo_organiser(email: str, password_file: str) -> str | None:
    """The demo administrator's password, creating the account the first time.

    Returns None when the account exists but its password file is gone (an organiser may
    have changed or removed it on purpose: never reset a password behind their back).
    """
    import secrets

    password_file = Path(password_file)
    existing = find_by_email(email)
    if existing is not None:
        return password_file.read_text(encoding="utf-8").strip() if password_file.exists() else None
    password = secrets.token_urlsafe(12)
    create_organiser(email=email, name="Demo organiser", role=Role.ADMIN, password=password)
    password_file.parent.mkdir(parents=True, exist_ok=True)
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    return password


def change_own_password(organiser: Organiser, current_password: str, new_password: str) -> None:
    """Set a new password after checking the current one; the same rules as a new account.

    Ending the other sessions is the caller's next step (``organiser_sessions.end_others``).
    """
    if not check_password_hash(organiser.password_hash, current_password or ""):
        raise WrongPassword(str(_l("This is not your current password.")))
    if new_password == current_password:
        raise AccountError(str(_l("Choose a password different from the current one.")))
    set_password(organiser, new_password)


def is_locked(organiser: Organiser) -> bool:
    return organiser.locked_until is not None and organiser.locked_until > utcnow()


def unlock(organiser: Organiser) -> dict:
    """Lift a lock after repeated failed sign-ins (an administrator's decision). Returns the changes."""
    if not is_locked(organiser) and not organiser.failed_logins:
        return {}
    changes = {"locked_until": (organiser.locked_until, None)}
    organiser.locked_until = None
    organiser.failed_logins = 0
    return changes
