"""Column types shared by the models."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator

#: Primary keys are 32-bit signed integers on PostgreSQL; ids past this are never looked up.
LARGEST_ID = 2**31 - 1
_ID = re.compile(r"[0-9]{1,10}")


def parse_id(text: str | None) -> int | None:
    """An id typed or posted by someone: ASCII digits up to LARGEST_ID, else ``None``
    (``str.isdigit`` also accepts "²" and "٣", which ``int()`` then refuses or misreads)."""
    if text is None or not _ID.fullmatch(text):
        return None
    value = int(text)
    return value if value <= LARGEST_ID else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC and hands back aware UTC, so SQLite and PostgreSQL agree.

    Aware values in any zone are converted to UTC on the way in; a naive value
    is refused because its zone would be a guess.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def str_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """An enum kept as VARCHAR with a CHECK, portable and readable in SQL."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def render_migration_item(type_, obj, autogen_context):
    """Write UTCDateTime as a plain DateTime in migrations: the conversion is Python-side."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False
