"""What the public pages show, as one number that any change to it moves."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class ContentVersion(db.Model):
    """A single row (id 1) whose ``version`` goes up in the same transaction as any change to
    the programme (series, webinars, talks, presenters, organisations).

    Cached public pages are stored under the version they were rendered at, so an organiser's
    edit, a publish or a cancellation is visible on the very next request to any worker on any
    host, without telling them: each reads this one row (a primary-key look-up) per request.
    """

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
