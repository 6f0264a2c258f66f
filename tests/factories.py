"""Small builders for test data: each returns a flushed model with sensible defaults.

Pass only what the test is about; everything else gets a unique, valid value.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from portal.extensions import db
from portal.models import (
    Organisation,
    Presentation,
    Presenter,
    PresenterRole,
    Series,
    Webinar,
    WebinarStatus,
)

_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def make_organisation(**fields) -> Organisation:
    n = _next()
    organisation = Organisation(**{"name": f"Organisation {n}", **fields})
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_series(**fields) -> Series:
    n = _next()
    series = Series(**{
        "slug": f"series-{n}",
        "title": f"Series {n}",
        "summary": "A series about things.",
        "timezone": "America/Toronto",
        "published": True,
        **fields,
    })
    db.session.add(series)
    db.session.flush()
    return series


def make_webinar(series: Series | None = None, **fields) -> Webinar:
    n = _next()
    webinar = Webinar(**{
        "series": series or make_series(),
        "slug": f"webinar-{n}",
        "title": f"Webinar {n}",
        "starts_at": now() + timedelta(days=14),
        "duration_minutes": 90,
        "status": WebinarStatus.PUBLISHED,
        **fields,
    })
    db.session.add(webinar)
    db.session.flush()
    return webinar


def make_presenter(organisation: Organisation | None = None, title: str | None = "Researcher", **fields) -> Presenter:
    n = _next()
    presenter = Presenter(**{"slug": f"presenter-{n}", "name": f"Presenter {n}", **fields})
    presenter.roles.append(PresenterRole(title=title, organisation=organisation, position=0))
    db.session.add(presenter)
    db.session.flush()
    return presenter


def make_presentation(webinar: Webinar, presenters: list[Presenter] | None = None, **fields) -> Presentation:
    n = _next()
    presentation = Presentation(**{
        "webinar": webinar,
        "title": f"Presentation {n}",
        "position": len(webinar.presentations),
        **fields,
    })
    db.session.add(presentation)
    db.session.flush()
    for presenter in presenters or []:
        presentation.presenters.append(presenter)
    db.session.flush()
    return presentation


def make_registration(webinar: Webinar, **fields):
    """A registration added directly (no seat rule, no email): for setting a scene.

    Returns ``(registration, token)``; the token is the one the portal would email.
    """
    from portal.models import Registration, RegistrationStatus
    from portal.services.registration import link_token
    from portal.services.tokens import hash_token

    n = _next()
    email = fields.pop("email", f"person{n}@example.org")
    values = {
        "full_name": f"Person {n}",
        "email": email,
        "email_normalised": email.lower(),
        "status": RegistrationStatus.CONFIRMED,
        "preferred_language": "en",
        "created_at": datetime.now(UTC) + timedelta(microseconds=n),
        **fields,
    }
    token = link_token(webinar.id, values["email_normalised"], values["created_at"])
    registration = Registration(webinar=webinar, token_hash=hash_token(token), **values)
    db.session.add(registration)
    db.session.flush()
    return registration, token


ORGANISER_PASSWORD = "correct horse battery staple 42"


def make_organiser(role: str = "organiser", **fields):
    """An active organiser account whose password is ``ORGANISER_PASSWORD``."""
    from werkzeug.security import generate_password_hash

    from portal.models import Organiser, Role

    n = _next()
    organiser = Organiser(**{
        "email": f"organiser{n}@example.org",
        "name": f"Organiser {n}",
        "role": Role(role),
        # pbkdf2 with few rounds keeps the suite fast; the login check accepts any werkzeug hash.
        "password_hash": generate_password_hash(ORGANISER_PASSWORD, method="pbkdf2:sha256:1000"),
        **fields,
    })
    db.session.add(organiser)
    db.session.flush()
    return organiser


def sign_in(client, organiser, password: str = ORGANISER_PASSWORD):
    """Sign ``organiser`` in through the real login form; returns the response."""
    from tests.conftest import csrf_token_from

    db.session.commit()
    page = client.get("/organiser/login")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/organiser/login", data={"csrf_token": token, "email": organiser.email,
                                                 "password": password})
