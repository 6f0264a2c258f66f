"""Attendance from the platform's report, through the organiser's pages: import, matching,
threshold, hand ticks, re-import, the guard rail before the start, figures, bad input."""

from __future__ import annotations

import io
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest

from portal.extensions import db
from portal.models import (
    AttendanceImport,
    AttendanceSource,
    AuditEvent,
    Registration,
    RegistrationStatus,
    Sector,
    UnmatchedAttendee,
    UnmatchedResolution,
)
from portal.services import attendance
from tests.conftest import csrf_token_from
from tests.factories import make_organiser, make_registration, make_webinar, now, sign_in
from tests.test_attendance_reports import write_big_report

DATA = Path(__file__).parent / "data" / "attendance"


@pytest.fixture
def editor(app, client):
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def past_webinar(**fields):
    return make_webinar(starts_at=now() - timedelta(days=1), duration_minutes=90, **fields)


def people(webinar) -> dict[str, Registration]:
    """The registrations the files in tests/data/attendance/ speak of (and one who never came)."""
    found = {}
    for key, name, email, sector in (
        ("amelie", "Amélie Tremblay", "amelie.tremblay@example.org", Sector.EDUCATION),
        ("jordan", "Jordan Okafor", "Jordan.Okafor@example.org", Sector.LAW_ENFORCEMENT),
        ("priya", "Priya Raman", "priya.raman@example.ca", Sector.CHILD_PROTECTION),
        ("marc", "Marc-André Côté", "marc-andre.cote@example.ca", Sector.LAW_ENFORCEMENT),
        ("zoe", "Zoë Ñúñez-Łukasiewicz", "zoe.nunez@example.org", Sector.ACADEMIA),
        ("sam", "Sam Lee", "sam.lee@example.org", Sector.PARENT),
    ):
        found[key] = make_registration(webinar, full_name=name, email=email, sector=sector)[0]
    return found


def fresh(registration: Registration) -> Registration:
    db.session.expire_all()
    return db.session.get(Registration, registration.id)


def page_token(client, webinar) -> str:
    db.session.commit()
    return csrf_token_from(client.get(f"/organiser/webinars/{webinar.id}/attendance").get_data(as_text=True))


def upload(client, webinar, name_or_bytes, *, filename="report.csv", token=None, **fields):
    content = (DATA / name_or_bytes).read_bytes() if isinstance(name_or_bytes, str) else name_or_bytes
    data = {"report": (io.BytesIO(content), filename), **fields}
    if token is not False:
        data["csrf_token"] = token or page_token(client, webinar)
    return client.post(f"/organiser/webinars/{webinar.id}/attendance/import", data=data,
                       content_type="multipart/form-data")


def post(client, webinar, path, **data):
    data.setdefault("csrf_token", page_token(client, webinar))
    return client.post(f"/organiser/webinars/{webinar.id}/attendance{path}", data=data)


def unmatched_rows(webinar):
    db.session.expire_all()
    return db.session.scalars(db.select(UnmatchedAttendee).where(UnmatchedAttendee.webinar_id == webinar.id)
                              .order_by(UnmatchedAttendee.row_number)).all()


# ---------------------------------------------------------------- import and matching

@pytest.mark.parametrize(("name", "words"), [
    ("zoom_meeting_participants.csv", "Zoom meeting participant report"),
    ("zoom_webinar_attendee_report.csv", "Zoom webinar attendee report"),
    ("teams_attendance_report_utf16.csv", "Microsoft Teams attendance report (tab-separated download)"),
    ("teams_attendance_report.csv", "Microsoft Teams attendance report (CSV)"),
    ("webex_attendee_report.csv", "Webex attendee report"),
    ("plain.csv", "Plain CSV (name, email, minutes)"),
])
def test_each_report_gives_minutes_and_attendance_and_says_what_it_found(app, client, editor, name, words):
    webinar = past_webinar()
    who = people(webinar)
    response = upload(client, webinar, name, filename="whatever.txt")
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert f"Read as: {words}" in page and words in page
    amelie, jordan, zoe, sam = (fresh(who[k]) for k in ("amelie", "jordan", "zoe", "sam"))
    assert amelie.minutes_attended in (91, 92) and amelie.attended and amelie.attendance_source == AttendanceSource.REPORT
    assert zoe.minutes_attended == 60 and zoe.attended  # threshold: half of 90 minutes
    assert jordan.minutes_attended == 20 and not jordan.attended  # matched although the case differs
    assert sam.minutes_attended is None and not sam.attended
    assert attendance.has_attended(amelie) and not attendance.has_attended(jordan)


def test_unmatched_people_are_offered_with_a_likely_registration_by_name(app, client, editor):
    webinar = past_webinar()
    who = people(webinar)
    upload(client, webinar, "zoom_meeting_participants.csv")
    rows = {row.name: row for row in unmatched_rows(webinar)}
    assert set(rows) == {"Host Account", "Priya R.", "Marc-Andre Cote"}
    # Accents and case ignored: "Marc-Andre Cote" is Marc-André Côté.
    assert rows["Marc-Andre Cote"].suggested_registration_id == who["marc"].id
    assert rows["Marc-Andre Cote"].suggestion_score == 100
    assert rows["Priya R."].suggested_registration_id == who["priya"].id
    assert rows["Host Account"].suggested_registration_id is None
    page = client.get(f"/organiser/webinars/{webinar.id}/attendance").get_data(as_text=True)
    assert "Marc-André Côté" in page and "Priya Raman" in page and "No similar name" in page

    # Confirm the suggestion for Marc; give Priya's email by hand; leave the host out.
    assert post(client, webinar, f"/unmatched/{rows['Marc-Andre Cote'].id}", action="confirm").status_code == 303
    post(client, webinar, f"/unmatched/{rows['Priya R.'].id}", action="confirm",
         registration_email="PRIYA.RAMAN@example.ca ")
    post(client, webinar, f"/unmatched/{rows['Host Account'].id}", action="leave")
    assert fresh(who["marc"]).minutes_attended == 80 and fresh(who["marc"]).attended
    assert fresh(who["priya"]).minutes_attended == 90 and fresh(who["priya"]).attended
    assert {r.resolution for r in unmatched_rows(webinar)} == {UnmatchedResolution.CONFIRMED, UnmatchedResolution.LEFT}
    assert "Nobody left to review." in client.get(f"/organiser/webinars/{webinar.id}/attendance").get_data(as_text=True)
    # Confirming twice changes nothing.
    post(client, webinar, f"/unmatched/{rows['Marc-Andre Cote'].id}", action="confirm")
    assert fresh(who["marc"]).minutes_attended == 80


def test_reimporting_replaces_the_previous_import_and_remembers_hand_matches(app, client, editor):
    webinar = past_webinar()
    who = people(webinar)
    upload(client, webinar, "zoom_meeting_participants.csv")
    marc_row = next(r for r in unmatched_rows(webinar) if r.name == "Marc-Andre Cote")
    post(client, webinar, f"/unmatched/{marc_row.id}", action="confirm")
    upload(client, webinar, "zoom_meeting_participants.csv")  # the same file again: no doubles
    assert fresh(who["amelie"]).minutes_attended == 91
    assert fresh(who["marc"]).minutes_attended == 80  # matched again from the earlier confirmation
    assert sorted(r.name for r in unmatched_rows(webinar)) == ["Host Account", "Priya R."]
    assert db.session.scalar(db.select(db.func.count()).select_from(AttendanceImport)) == 1
    # A corrected report in which Amélie is missing: her minutes go with the old import.
    upload(client, webinar, b"name,email,minutes\nJordan Okafor,jordan.okafor@example.org,70\n")
    assert fresh(who["amelie"]).minutes_attended is None and not fresh(who["amelie"]).attended
    assert fresh(who["jordan"]).minutes_attended == 70 and fresh(who["jordan"]).attended
    assert unmatched_rows(webinar) == []


def test_gmail_dots_and_tags_only_when_configured(app, client, editor):
    webinar = past_webinar()
    person, _ = make_registration(webinar, full_name="Kim Doe", email="kim.doe@gmail.com")
    report = b"name,email,minutes\nKim Doe,kimdoe+webinar@gmail.com,80\n"
    upload(client, webinar, report)
    assert fresh(person).minutes_attended is None
    app.config["ATTENDANCE_GMAIL_CANONICAL"] = True
    upload(client, webinar, report)
    assert fresh(person).minutes_attended == 80


# ---------------------------------------------------------------- threshold and hand ticks

def test_threshold_decides_and_can_be_changed(app, client, editor):
    webinar = past_webinar()
    who = people(webinar)
    upload(client, webinar, "plain.csv")
    assert not fresh(who["jordan"]).attended
    assert post(client, webinar, "/threshold", threshold_minutes="20").status_code == 303
    assert fresh(who["jordan"]).attended and webinar.attendance_threshold == 20
    post(client, webinar, "/threshold", threshold_minutes="")  # back to half the duration
    assert not fresh(who["jordan"]).attended and fresh(who["zoe"]).attended
    for bad in ("-1", "abc", "100000", "1e3"):
        response = post(client, webinar, "/threshold", threshold_minutes=bad)
        assert response.status_code == 422, bad
        assert "There is a problem" in response.get_data(as_text=True)


def test_a_hand_tick_stands_until_overruled(app, client, editor):
    webinar = past_webinar()
    who = people(webinar)
    # At the door: Jordan ticked present, Zoë ticked absent by mistake (then unticked).
    assert attendance.mark_by_hand(who["jordan"], True)
    attendance.mark_by_hand(who["zoe"], False)
    db.session.commit()
    upload(client, webinar, "plain.csv")
    jordan, zoe = fresh(who["jordan"]), fresh(who["zoe"])
    assert jordan.attended and jordan.minutes_attended == 20 and jordan.attendance_source == AttendanceSource.HAND
    assert not zoe.attended and zoe.minutes_attended == 60
    page = client.get(f"/organiser/webinars/{webinar.id}/attendance").get_data(as_text=True)
    assert "Hand ticks the report disagrees with" in page and "Jordan Okafor" in page
    # One by one…
    assert post(client, webinar, f"/use-report/{who['zoe'].id}").status_code == 303
    assert fresh(who["zoe"]).attended
    # …or all at once with the import.
    upload(client, webinar, "plain.csv", overrule_hand="y")
    assert not fresh(who["jordan"]).attended
    assert fresh(who["jordan"]).attendance_source == AttendanceSource.REPORT


def test_attendance_is_refused_before_the_webinar_starts(app, client, editor):
    webinar = make_webinar(starts_at=now() + timedelta(days=2))
    who = people(webinar)
    response = upload(client, webinar, "plain.csv")
    assert response.status_code == 422
    assert "has not started yet" in response.get_data(as_text=True)
    assert fresh(who["amelie"]).minutes_attended is None
    token = page_token(client, webinar)
    response = client.post(f"/organiser/webinars/{webinar.id}/checkin/{who['amelie'].id}",
                           data={"csrf_token": token, "present": "yes"})
    assert response.status_code == 422 and "has not started yet" in response.get_data(as_text=True)
    assert not fresh(who["amelie"]).attended
    response = post(client, webinar, "/final", final="yes")
    assert response.status_code == 422 and webinar.attendance_final_at is None
    # The door opens an hour before the start.
    soon = make_webinar(starts_at=now() + timedelta(minutes=30))
    person, _ = make_registration(soon)
    db.session.commit()
    client.post(f"/organiser/webinars/{soon.id}/checkin/{person.id}", data={"csrf_token": token, "present": "yes"})
    assert fresh(person).attended


def test_attendance_can_be_marked_final_and_reopened(app, client, editor):
    webinar = past_webinar()
    assert post(client, webinar, "/final", final="yes").status_code == 303
    db.session.expire_all()
    assert webinar.attendance_final_at is not None and attendance.attendance_is_final(webinar)
    post(client, webinar, "/final", final="no")
    db.session.expire_all()
    assert webinar.attendance_final_at is None
    assert post(client, webinar, "/final", final="maybe").status_code == 400


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty."),
    (b"PK\x03\x04" + b"\x00" * 200, "spreadsheet workbook"),
    ((DATA / "not_a_report.csv").read_bytes(), "No table of participants was found"),
    (b"name,email,minutes\n,,50\nBob,bob@example.org,soon\n", "None of the report"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, "not a text file"),
])
def test_a_file_that_cannot_be_read_is_422_with_a_message_and_changes_nothing(app, client, editor, content,
                                                                              message):
    webinar = past_webinar()
    who = people(webinar)
    upload(client, webinar, "plain.csv")
    response = upload(client, webinar, content)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text and "There is a problem" in text
    assert fresh(who["amelie"]).minutes_attended == 91  # the previous import stands
    if message == "None of the report":
        assert "Line 2: neither an email nor a name" in text and "Line 3: the duration is not a number" in text


def test_bad_rows_are_listed_with_their_line(app, client, editor):
    webinar = past_webinar()
    people(webinar)
    response = upload(client, webinar, "zoom_with_bad_rows.csv")
    page = client.get(response.location).get_data(as_text=True)
    assert "4 rows could not be read" in page
    for line in ("Line 3: a join or leave time could not be read", "Line 4: neither an email nor a name",
                 "Line 5: left before joining", "Line 6: the duration is not a number of minutes"):
        assert line in page


def test_viewers_read_but_cannot_change(app, client):
    webinar = past_webinar()
    people(webinar)
    path = f"/organiser/webinars/{webinar.id}/attendance"
    db.session.commit()
    assert client.get(path).status_code == 302  # sign in first
    viewer = make_organiser("viewer")
    sign_in(client, viewer)
    page = client.get(path)
    assert page.status_code == 200 and "Import the platform" not in page.get_data(as_text=True)
    token = csrf_token_from(client.get("/organiser/").get_data(as_text=True))
    assert upload(client, webinar, "plain.csv", token=token).status_code == 403
    for action, data in (("/threshold", {"threshold_minutes": "10"}), ("/final", {"final": "yes"})):
        assert client.post(path + action, data={"csrf_token": token, **data}).status_code == 403


def test_no_file_missing_csrf_and_unknown_rows(app, client, editor):
    webinar = past_webinar()
    people(webinar)
    path = f"/organiser/webinars/{webinar.id}/attendance"
    assert upload(client, webinar, "plain.csv", token=False).status_code == 400  # no CSRF token
    assert upload(client, webinar, "plain.csv", token="forged").status_code == 400
    token = page_token(client, webinar)
    response = client.post(path + "/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose the report file." in response.get_data(as_text=True)
    assert client.post(path + "/unmatched/999", data={"csrf_token": token, "action": "leave"}).status_code == 404
    other = past_webinar()
    assert client.get(f"/organiser/webinars/{other.id + 1000}/attendance").status_code == 404


def test_a_report_over_the_upload_limit_is_refused_with_413(app, client, editor):
    webinar = past_webinar()
    app.config["ATTENDANCE_MAX_UPLOAD_BYTES"] = 10_000
    response = upload(client, webinar, b"name,email,minutes\n" + b"Ann,ann@example.org,50\n" * 1000)
    assert response.status_code == 413


def test_hostile_cells_never_reach_a_page_or_the_csv_unescaped(app, client, editor):
    webinar = past_webinar()
    make_registration(webinar, full_name="=HYPERLINK(\"http://evil\")", email="formula@example.org")
    upload(client, webinar, "hostile.csv")
    page = client.get(f"/organiser/webinars/{webinar.id}/attendance").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "\x07" not in page and "\x1b" not in page and "BellNullEsc[31mRed" in page
    csv_text = client.get(f"/organiser/webinars/{webinar.id}/registrations.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text
    assert ",60," in csv_text  # minutes_attended in the export


# ---------------------------------------------------------------- figures

def test_dashboard_shows_attended_no_show_unmatched_and_rates(app, client, editor):
    webinar = past_webinar(title="Past webinar")
    people(webinar)
    make_registration(webinar, status=RegistrationStatus.CANCELLED, email="gone@example.org")
    upload(client, webinar, "zoom_meeting_participants.csv")
    figures = attendance.figures([webinar.id])[webinar.id]
    # Confirmed 6: Amélie and Zoë attended; Jordan (20 min), Priya, Marc, Sam did not (yet).
    assert (figures.confirmed, figures.attended, figures.no_show, figures.unmatched) == (6, 2, 4, 3)
    assert figures.rate == 33.3
    sectors = {s.sector: (s.confirmed, s.attended) for s in attendance.by_sector(webinar.id)}
    assert sectors[Sector.LAW_ENFORCEMENT] == (2, 0) and sectors[Sector.EDUCATION] == (1, 1)
    page = client.get("/organiser/").get_data(as_text=True)
    assert "Attendance rate" in page and "33.3 %" in page
    assert "Attendance by sector" in page


def test_attendance_page_queries_do_not_grow_with_the_report(app, client, editor, count_queries):
    counts = []
    for size in (3, 80):
        webinar = past_webinar()
        body = "name,email,minutes\n" + "".join(f"Stranger {i},stranger{i}@example.net,50\n" for i in range(size))
        upload(client, webinar, body.encode())
        db.session.commit()
        with count_queries() as counter:
            assert client.get(f"/organiser/webinars/{webinar.id}/attendance").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_audit_trail_records_imports_without_personal_data(app, client, editor):
    webinar = past_webinar()
    people(webinar)
    upload(client, webinar, "plain.csv")
    event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "attendance_import")).one()
    assert "Amélie" not in f"{event.summary} {event.changes}" and "example.org" not in f"{event.summary} {event.changes}"


@pytest.mark.slow
def test_importing_50000_rows_keeps_memory_flat(app, tmp_path):
    """Ten times the rows for the same people: about the same peak memory."""
    webinar = past_webinar()
    for i in range(1000):
        make_registration(webinar, full_name=f"Person {i}", email=f"person{i}@example.org")
    db.session.commit()
    peaks = []
    for rows in (5_000, 50_000):
        path = write_big_report(tmp_path / f"r{rows}.csv", rows)
        tracemalloc.start()
        try:
            with open(path, "rb") as stream:
                receipt = attendance.import_report(webinar, stream, filename=path.name)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        db.session.commit()
        assert receipt.people_matched == 1000 and receipt.rows_read == rows
    assert peaks[1] < peaks[0] * 1.5 + 256 * 1024, peaks
