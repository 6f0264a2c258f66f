"""The audit trail: recorded with the change, by whom, with changed fields only,
and without personal data beyond what identifies the record."""

import re
from datetime import timedelta

from portal.extensions import db
from portal.models import AuditEvent, Webinar
from portal.services import audit
from tests.conftest import page_in
from tests.factories import make_organiser, make_registration, make_webinar, now, sign_in


def test_record_joins_the_callers_transaction(app):
    webinar = make_webinar()
    audit.record("update", webinar, summary="x")
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == 0


def test_record_names_the_target_and_organiser(app):
    organiser = make_organiser()
    webinar = make_webinar()
    event = audit.record("publish", webinar, summary=webinar.title, organiser=organiser)
    db.session.commit()
    assert (event.target_type, event.target_id, event.organiser_id) == ("webinar", webinar.id, organiser.id)


def test_changed_fields_lists_only_real_changes(app):
    webinar = make_webinar(title="A", capacity=10, description="")
    changes = audit.apply_changes(webinar, {"title": "B", "capacity": 10, "description": None})
    assert changes == {"title": ("A", "B")} and webinar.title == "B"
    event = audit.record("update", webinar, changes=changes)
    assert event.changes == {"title": ["A", "B"]}


def test_secrets_are_never_copied(app):
    webinar = make_webinar()
    event = audit.record("update", webinar, changes={"password_hash": ("old", "new"), "token_hash": ("a", "b")})
    assert "old" not in str(event.changes) and "new" not in str(event.changes)


def test_attendance_and_export_events_hold_no_personal_data(app, client):
    admin = make_organiser("admin")
    webinar = make_webinar(starts_at=now() + timedelta(minutes=10))  # attendance opens as people join
    registration, _ = make_registration(webinar, full_name="Zoë Private", email="zoe.private@example.org",
                                        organisation_name="Secret Org")
    sign_in(client, admin)
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get(f"/organiser/webinars/{webinar.id}/checkin").get_data(as_text=True))
    client.post(f"/organiser/webinars/{webinar.id}/checkin/{registration.id}",
                data={"csrf_token": token, "present": "yes"})
    client.get(f"/organiser/webinars/{webinar.id}/registrations.csv?q=zoe")
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action.in_(["attendance", "export"]))).all()
    assert {e.action for e in events} == {"attendance", "export"}
    for event in events:
        text = f"{event.summary} {event.changes}"
        assert "Zoë" not in text and "zoe.private" not in text and "Secret Org" not in text


def test_audit_page_filters_and_pages(app, client):
    admin = make_organiser("admin")
    other = make_organiser("organiser", name="Other Person")
    webinar = make_webinar()
    for n in range(60):
        audit.record("update", webinar, summary=f"change {n}", organiser=other)
    audit.record("publish", webinar, summary="published it", organiser=admin)
    db.session.commit()
    sign_in(client, admin)
    page = client.get("/organiser/audit?action=publish").get_data(as_text=True)
    assert "published it" in page and "change 1<" not in page
    page = client.get(f"/organiser/audit?organiser={other.id}").get_data(as_text=True)
    assert "60 events." in page and "Page 1 of 2" in page
    page = client.get(f"/organiser/audit?organiser={other.id}&page=2").get_data(as_text=True)
    assert "change 0" in page
    page = client.get("/organiser/audit?target_type=webinar&from=2000-01-01&to=2999-12-31").get_data(as_text=True)
    assert "61 events." in page  # the sign-in event is about an organiser, not a webinar
    for bad in ("page=abc", "page=-3", "from=notadate", "organiser=x", "action=" + "z" * 500):
        assert client.get("/organiser/audit?" + bad).status_code == 200, bad
    assert db.session.get(Webinar, webinar.id)


def test_audit_page_reads_in_french_and_filters_by_the_stored_code(app, client):
    admin = make_organiser("admin")
    webinar = make_webinar()
    audit.record("publish", webinar, summary="published it", organiser=admin)
    audit.record("retired_action", "retired_kind", summary="from an older version", organiser=admin)
    sign_in(client, admin)
    page = page_in(client, "fr", "/organiser/audit")
    assert "<td>Publication</td>" in page and f"<td>Webinaire #{webinar.id}</td>" in page
    assert "<td>Connexion</td>" in page and f"<td>Compte organisateur #{admin.id}</td>" in page
    for raw in ("publish", "login", "webinar", "organiser"):
        assert f"<td>{raw}</td>" not in page and f"<td>{raw} #" not in page, raw
    # A code without a word is shown as stored rather than hidden.
    assert "<td>retired_action</td>" in page and "<td>retired_kind</td>" in page
    # The selects offer the words but send the stored code.
    for value, word in (("publish", "Publication"), ("login", "Connexion"), ("retired_action", "retired_action"),
                        ("webinar", "Webinaire"), ("organiser", "Compte organisateur")):
        assert re.search(rf'<option value="{value}"\s*>{word}</option>', page), value
    page = page_in(client, "fr", "/organiser/audit?action=publish&target_type=webinar")
    assert re.search(r'<option value="publish"\s*selected>Publication</option>', page)
    assert re.search(r'<option value="webinar"\s*selected>Webinaire</option>', page)
    assert "published it" in page and "from an older version" not in page


def test_every_recorded_action_and_record_kind_has_a_word():
    """A new ``audit.record("…")`` call without a word in portal/labels.py would show its code."""
    from pathlib import Path

    from portal import labels

    source = "\n".join(p.read_text() for p in Path(labels.__file__).parent.rglob("*.py"))
    actions = set(re.findall(r'audit\.record\(\s*"(\w+)"', source))
    kinds = set(re.findall(r'audit\.record\(\s*"\w+",\s*"(\w+)"', source))
    assert {"create", "login_failed", "move_up"} <= actions  # the pattern still finds the calls
    assert actions <= set(labels.AUDIT_ACTION_LABELS), actions - set(labels.AUDIT_ACTION_LABELS)
    assert kinds <= set(labels.RECORD_KIND_LABELS), kinds - set(labels.RECORD_KIND_LABELS)
