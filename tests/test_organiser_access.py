"""Every organiser page, walked from the URL map: login first, then the right role,
and no POST without a CSRF token."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import (
    Certificate,
    CertificateKind,
    KeyTheme,
    Material,
    MaterialKind,
    PanelQuestion,
    Question,
    QuestionKind,
    Role,
)
from portal.services import invitations
from tests.conftest import csrf_token_from
from tests.factories import (
    make_organisation,
    make_organiser,
    make_presentation,
    make_presenter,
    make_registration,
    make_series,
    make_webinar,
    sign_in,
)

PUBLIC_ORGANISER_PAGES = {"organiser.login"}


def _scene():
    """One of every record an organiser URL can name."""
    organisation = make_organisation()
    series = make_series()
    theme = KeyTheme(series=series, heading="A theme", position=0)
    db.session.add(theme)
    webinar = make_webinar(series)
    presenter = make_presenter(organisation)
    presentation = make_presentation(webinar, [presenter])
    registration, _token = make_registration(webinar)
    admin = make_organiser("admin")
    [invitation], _ = invitations.invite(webinar, [invitations.Invitee("Invited", "invited@example.org")])
    question = Question(series_id=series.id, kind=QuestionKind.SHORT_TEXT, label_en="Q", label_fr="Q",
                        help_en="", help_fr="", choices=[])
    panel_question = PanelQuestion(webinar_id=webinar.id, registration_id=registration.id, text="Q")
    certificate = Certificate(code="scene-code", kind=CertificateKind.WEBINAR, registration=registration,
                              webinar=webinar, series=series, printed_name="Someone")
    material = Material(webinar=webinar, kind=MaterialKind.LINK, title="Slides", url="https://example.org/s")
    db.session.add_all([question, panel_question, certificate, material])
    db.session.commit()
    return {
        "invitation_id": invitation.id, "question_id": question.id, "panel_question_id": panel_question.id,
        "certificate_id": certificate.id, "material_id": material.id, "version": "attended", "language": "en",
        "series_id": series.id, "webinar_id": webinar.id, "theme_id": theme.id,
        "presentation_id": presentation.id, "presenter_id": presenter.id,
        "organisation_id": organisation.id, "organiser_id": admin.id, "registration_id": registration.id,
        "unmatched_id": 1,
    }


def _organiser_routes(app, ids):
    """(endpoint, method, url, allowed roles) for every organiser route."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/organiser/") or rule.endpoint in PUBLIC_ORGANISER_PAGES:
            continue
        missing = [arg for arg in rule.arguments if arg not in ids]
        assert not missing, f"{rule.rule}: no test value for {missing}"
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{arg}>", str(ids[arg]), url)
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "allowed_roles", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url, roles))
    return routes


def _session_token(client) -> str:
    return csrf_token_from(client.get("/organiser/login").get_data(as_text=True))


def test_every_organiser_view_declares_its_roles(app):
    ids = _scene()
    for endpoint, _method, url, roles in _organiser_routes(app, ids):
        if endpoint == "organiser.logout":
            continue
        assert roles, f"{endpoint} ({url}) is not guarded by role_required"


def test_anonymous_visitors_are_sent_to_login(app, client):
    ids = _scene()
    token = _session_token(client)
    routes = _organiser_routes(app, ids)
    assert len(routes) > 30
    for endpoint, method, url, _roles in routes:
        if endpoint == "organiser.logout":
            continue
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.location.startswith("/organiser/login"), (method, url, response.location)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ORGANISER])
def test_roles_that_may_not_use_a_page_get_403(app, client, role):
    ids = _scene()
    sign_in(client, make_organiser(role.value))
    token = _session_token_signed_in(client)
    checked = 0
    for _endpoint, method, url, roles in _organiser_routes(app, ids):
        if roles is None or role in roles:
            continue
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 403, (role, method, url, response.status_code)
        checked += 1
    assert checked > 0


def _session_token_signed_in(client) -> str:
    return csrf_token_from(client.get("/organiser/").get_data(as_text=True))


def test_viewer_reads_dashboards_and_exports(app, client):
    ids = _scene()
    sign_in(client, make_organiser("viewer"))
    for url in ("/organiser/", f"/organiser/?webinar={ids['webinar_id']}", "/organiser/programme",
                f"/organiser/webinars/{ids['webinar_id']}",
                f"/organiser/webinars/{ids['webinar_id']}/registrations",
                f"/organiser/webinars/{ids['webinar_id']}/registrations.csv"):
        assert client.get(url).status_code == 200, url


def test_every_post_without_csrf_is_refused(app, client):
    ids = _scene()
    sign_in(client, make_organiser("admin"))
    posts = [(m, url) for _e, m, url, _r in _organiser_routes(app, ids) if m == "POST"]
    assert len(posts) > 20
    for _method, url in posts:
        response = client.post(url, data={})
        assert response.status_code == 400, (url, response.status_code)
        response = client.post(url, data={"csrf_token": "forged"})
        assert response.status_code == 400, (url, response.status_code)
    # Nothing was changed by the refused requests.
    assert client.get("/organiser/").status_code == 200
