"""The audit trail: who (organiser) did what to which record, and when.

``record`` only adds the event to the session: it is committed (or rolled
back) together with the change it describes, so the log never claims a change
that did not happen.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from portal.extensions import db
from portal.models import AuditEvent, Organiser

#: Fields whose values must never be copied into the audit trail.
_SECRET_FIELDS = {"password", "password_hash", "token", "token_hash", "csrf_token"}


def target_type_of(target: Any) -> str:
    """A short, stable name for the kind of record ("webinar", "registration")."""
    if target is None:
        return ""
    if isinstance(target, str):
        return target
    table = getattr(target, "__tablename__", None)
    return table or type(target).__name__.lower()


def _current_organiser() -> Organiser | None:
    try:
        if current_user and current_user.is_authenticated:
            return current_user._get_current_object()
    except (RuntimeError, AttributeError):  # outside a request (commands)
        return None
    return None


def _client_address() -> str | None:
    """The address the request came from; behind TRUSTED_PROXIES the forwarded client's."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:45] or None


def record(action: str, target: Any, *, summary: str = "", changes: dict | None = None,
           organiser: Organiser | None = None) -> AuditEvent:
    """Add an audit event for ``action`` on ``target`` to the session (no commit).

    ``target`` is a model instance (its table name and id are kept) or a plain
    string naming a kind of record when there is no row (a failed login).
    ``organiser`` defaults to the signed-in organiser, if any.
    """
    who = organiser if organiser is not None else _current_organiser()
    event = AuditEvent(
        action=action,
        target_type=target_type_of(target)[:40],
        target_id=getattr(target, "id", None),
        summary=summary,
        changes=_jsonable_changes(changes) if changes else None,
        organiser_id=who.id if who is not None else None,
        client_address=_client_address(),
    )
    db.session.add(event)
    return event


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "id"):
        return value.id
    return str(value)


def _jsonable_changes(changes: dict) -> dict:
    return {
        name: (["(hidden)", "(hidden)"] if name in _SECRET_FIELDS else [_jsonable(old), _jsonable(new)])
        for name, (old, new) in changes.items()
    }


def changed_fields(model: Any, new_values: dict) -> dict:
    """{field: (old, new)} for the attributes whose value differs from ``new_values``.

    Call it before assigning; ``apply_changes`` does both at once.
    """
    changes = {}
    for name, new in new_values.items():
        old = getattr(model, name, None)
        if _comparable(old) != _comparable(new):
            changes[name] = (old, new)
    return changes


def apply_changes(model: Any, new_values: dict) -> dict:
    """Set the attributes that changed and return them as {field: (old, new)}."""
    changes = changed_fields(model, new_values)
    for name, (_old, new) in changes.items():
        setattr(model, name, new)
    return changes


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value or None  # "" and None mean the same in a form
    if isinstance(value, enum.Enum):
        return value.value
    return value
