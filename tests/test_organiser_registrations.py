"""Sign-up figures, one webinar's registrations (search, filter, sort, page, bulk
actions), check-in, the CSV export and messages to registrants."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import flask_babel
import pytest
from flask_babel import force_locale

from portal import dates
from portal.extensions import db
from portal.models import (
    AuditEvent,
    FeedbackResponse,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Sector,
    WebinarMessage,
)
from tests.conftest import csrf_token_from, page_in
from tests.factories import make_organiser, make_registration, make_webinar, now, sign_in


@pytest.fixture
def editor(app, client):
    organiser = make_organiser("organiser")
    sign_in(client, organiser)
    return organiser


def token(client) -> str:
    return csrf_token_from(client.get("/organiser/", follow_redirects=True).get_data(as_text=True))


def post(client, path, **data):
    db.session.commit()
    return client.post(path, data={"csrf_token": token(client), **data})


def fresh(registration):
    db.session.expire_all()
    return db.session.get(Registration, registration.id)


def get(client, path):
    db.session.commit()
    return client.get(path)


def _people(webinar, n, **fields):
    return [make_registration(webinar, **fields)[0] for _ in range(n)]


# ---------------------------------------------------------------- overview

def test_overview_counts_each_webinar(app, client, editor):
    webinar = make_webinar(capacity=3, title="Counted webinar")
    _people(webinar, 3, attended=True)
    _people(webinar, 2, status=RegistrationStatus.WAITLISTED)
    _people(webinar, 1, status=RegistrationStatus.CANCELLED)
    db.session.add(FeedbackResponse(webinar_id=webinar.id, overall_rating=5))
    page = get(client, "/organiser/").get_data(as_text=True)
    row = page[page.index("Counted webinar"):]
    row = row[: row.index("</tr>")]
    cells = [c.split("</td>")[0].strip() for c in row.split('<td class="number">')[1:]]
    assert cells[:4] == ["3 / 3", "2", "1", "3"]
    # One answer, not from an attendee: 0 % of the three attendees answered.
    assert cells[4].startswith("1<br>") and "0.0 % of attendees" in cells[4]


def test_signup_charts_and_tables_on_the_overview(app, client, editor):
    webinar = make_webinar()
    start = now() - timedelta(days=3)
    make_registration(webinar, created_at=start, sector=Sector.EDUCATION, region="ON")
    make_registration(webinar, created_at=start, sector=Sector.EDUCATION, region="QC")
    make_registration(webinar, created_at=start + timedelta(days=2), sector=Sector.PARENT, region="ON")
    page = get(client, f"/organiser/?webinar={webinar.id}").get_data(as_text=True)
    # One page: the counts table and the charts together.
    assert '<th scope="col" class="number">Confirmed</th>' in page and 'id="signups"' in page
    assert "<svg" in page and "<polyline" in page and page.count('<rect class="bar"') >= 3 + 2 + 2
    # Days as people write them ("2 Dec 2026"), not ISO.
    day0, day1, day2 = ((start + timedelta(days=d)).strftime("%-d %b %Y") for d in range(3))
    # The data table beside the chart: the empty day in between is shown with 0.
    for day, count, total in ((day0, 2, 2), (day1, 0, 2), (day2, 1, 3)):
        assert f'<th scope="row">{day}</th><td class="number">{count}</td><td class="number">{total}</td>' in page
    assert "Education" in page and "Parent" in page
    assert "Ontario" in page and ("Quebec" in page or "Québec" in page)
    assert get(client, "/organiser/?webinar=abc").status_code == 200
    assert "No sign-ups yet" in get(client, "/organiser/?webinar=99999").get_data(as_text=True)


def test_overview_figures_are_exact_on_either_database(app):
    """The aggregates read indexes (day expression, column order): same answers on SQLite and PostgreSQL.

    Run with TEST_DATABASE_URL for PostgreSQL; the expected values are the same.
    """
    from zoneinfo import ZoneInfo

    from portal.services import signups

    first, second = make_webinar(), make_webinar()
    day = datetime(2030, 3, 9, tzinfo=UTC)
    toronto = ZoneInfo("America/Toronto")
    scene = [  # (webinar, created_at, status, attended, sector, region)
        (first, day + timedelta(hours=23, minutes=59, seconds=59, microseconds=999_999),
         RegistrationStatus.CONFIRMED, True, Sector.EDUCATION, "ON"),
        (first, day + timedelta(days=1), RegistrationStatus.CONFIRMED, False, Sector.EDUCATION, "QC"),
        # 21:30 in Toronto on the 10th is 01:30 UTC on the 11th: days are UTC days.
        (second, datetime(2030, 3, 10, 21, 30, tzinfo=toronto), RegistrationStatus.WAITLISTED, False, None, None),
        (second, day + timedelta(days=3, hours=12), RegistrationStatus.CANCELLED, False, Sector.PARENT, "ON"),
        (second, day + timedelta(days=3, hours=13), RegistrationStatus.CONFIRMED, True, Sector.PARENT, "ON"),
    ]
    for webinar, created_at, status, attended, sector, region in scene:
        make_registration(webinar, created_at=created_at, status=status, attended=attended, sector=sector,
                          region=region)
    db.session.add(FeedbackResponse(webinar_id=second.id, overall_rating=4))
    db.session.commit()

    counts = signups.webinar_counts()
    assert counts[first.id] == signups.Counts(confirmed=2, attended=1)
    assert counts[second.id] == signups.Counts(confirmed=1, waitlisted=1, cancelled=1, attended=1, feedback=1)
    d = day.date()
    assert signups.per_day() == [(d, 1, 1), (d + timedelta(days=1), 1, 2), (d + timedelta(days=2), 1, 3),
                                 (d + timedelta(days=3), 2, 5)]
    assert signups.per_day(second.id) == [(d + timedelta(days=2), 1, 1), (d + timedelta(days=3), 2, 3)]
    # Cancelled registrations left out; ties by name, "not given" last.
    assert signups.by_sector() == [(Sector.EDUCATION, 2), (Sector.PARENT, 1), (None, 1)]
    assert signups.by_region() == [("ON", 2), ("QC", 1), (None, 1)]
    assert signups.by_region(first.id) == [("ON", 1), ("QC", 1)]


def test_old_signups_address_redirects_to_the_overview_charts(app, client, editor):
    webinar = make_webinar()
    response = get(client, f"/organiser/signups?webinar={webinar.id}")
    assert response.status_code == 301
    assert response.location == f"/organiser/?webinar={webinar.id}#signups"
    assert get(client, "/organiser/signups").location == "/organiser/#signups"


def test_organiser_pages_show_times_without_seconds(app, client, editor):
    webinar = make_webinar(title="Timed webinar", starts_at=datetime(2030, 12, 6, 18, tzinfo=UTC))
    for path in ("/organiser/", "/organiser/programme", f"/organiser/webinars/{webinar.id}"):
        page = get(client, path).get_data(as_text=True)
        # The dashboard's table writes it short ("6 Dec 2030, 13:00 EST"), the other pages in full.
        expected = "6 Dec 2030, 13:00 EST" if path == "/organiser/" else "December 6, 2030, 1:00\u202fPM EST"
        assert expected in page, path  # CLDR: narrow no-break space
        assert not re.search(r"\b\d{1,2}:\d\d:\d\d\b", page), (path, re.findall(r".{40}\d:\d\d:\d\d.{10}", page))
    with force_locale("fr"):
        assert dates.full_datetime(webinar.starts_at, webinar.series.zone) == "6 décembre 2030, 13 h 00 HNE"


# ---------------------------------------------------------------- the list

def test_search_filter_sort_and_page(app, client, editor):
    webinar = make_webinar()
    make_registration(webinar, full_name="Zoë Lévesque", email="zoe@example.org", organisation_name="École X",
                      sector=Sector.EDUCATION)
    make_registration(webinar, full_name="Adam Smith", organisation_name="Police 100%",
                      status=RegistrationStatus.WAITLISTED, sector=Sector.LAW_ENFORCEMENT)
    _people(webinar, 55)
    base = f"/organiser/webinars/{webinar.id}/registrations"
    page = get(client, base).get_data(as_text=True)
    assert "57 registrations match." in page and "Page 1 of 2" in page
    assert page.count('name="ids"') == 50
    assert "Page 2 of 2" in get(client, base + "?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in get(client, base + "?page=999").get_data(as_text=True)
    for query, expected in (("?q=l%C3%A9vesque", "Zoë"), ("?q=ZOE@EXAMPLE", "Zoë"), ("?q=%C3%89cole", "Zoë"),
                            ("?status=waitlisted", "Adam"), ("?sector=education", "Zoë"), ("?q=100%25", "Adam")):
        page = get(client, base + query).get_data(as_text=True)
        assert "1 registrations match." in page and expected in page, query
    assert "0 registrations match." in get(client, base + "?q=_").get_data(as_text=True)  # no LIKE wildcards
    page = get(client, base + "?sort=name").get_data(as_text=True)
    assert page.index("Adam Smith") < page.index("Person ")
    for bad in ("?status=bogus", "?sort=;drop", "?page=-1", "?attended=maybe", "?q=" + "x" * 1000, "?q=%00"):
        assert get(client, base + bad).status_code == 200, bad


def _cells(page, name):
    """The data cells of the row headed by ``name``: organisation, sector, region, status, …
    (the region is the sector cell's second line, counted as a cell of its own)."""
    row = page[page.index(f'<th scope="row" class="name-col">{name}<'):]
    row = row[: row.index("</tr>")].replace('<span class="cell-second">', "</td><td>").replace("</span></t", "</t")
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def test_statuses_sectors_and_regions_read_as_words_in_french(app, client, editor):
    webinar = make_webinar(starts_at=now() - timedelta(hours=1))  # attendance can be ticked
    seated, _ = make_registration(webinar, full_name="Seated Person", sector=Sector.EDUCATION, region="QC")
    waiting, _ = make_registration(webinar, full_name="Waiting Person", status=RegistrationStatus.WAITLISTED,
                                   region="outside")
    path = f"/organiser/webinars/{webinar.id}/registrations"
    page = page_in(client, "fr", path)
    assert _cells(page, "Seated Person")[1:4] == ["Éducation", "Québec", "Confirmée"]
    assert _cells(page, "Waiting Person")[1:4] == ["", "À l’extérieur du Canada", "Liste d’attente"]
    for raw in ("confirmed", "waitlisted", "education", "QC", "outside"):
        assert f">{raw}<" not in page, raw
    # The filter shows words but still sends the stored code, so links work in either language.
    assert re.search(r'<option value="confirmed"\s*>Confirmée</option>', page)
    assert re.search(r'<option value="waitlisted"\s*>Liste d’attente</option>', page)
    assert re.search(r'<option value="education"\s*>Éducation</option>', page)
    filtered = page_in(client, "fr", path + "?status=waitlisted")
    assert re.search(r'<option value="waitlisted"\s*selected>Liste d’attente</option>', filtered)
    assert "Waiting Person" in filtered and "Seated Person" not in filtered

    flask_babel.refresh()
    confirm = post(client, "/fr" + path + "/bulk", action="attended", ids=[str(seated.id), str(waiting.id)])
    text = confirm.get_data(as_text=True)
    assert "Seated Person (Confirmée)" in text and "Waiting Person (Liste d’attente)" in text

    english = page_in(client, "en", path)
    assert _cells(english, "Waiting Person")[2:4] == ["Outside Canada", "Waiting list"]


def test_bulk_actions_ask_once_for_confirmation(app, client, editor):
    webinar = make_webinar(capacity=2, starts_at=now() - timedelta(hours=1))
    a, b = _people(webinar, 2)
    waiting, = _people(webinar, 1, status=RegistrationStatus.WAITLISTED)
    path = f"/organiser/webinars/{webinar.id}/registrations/bulk"
    response = post(client, path, action="attended", ids=[str(a.id), str(b.id)])
    assert response.status_code == 200 and "Please confirm" in response.get_data(as_text=True)
    assert not fresh(a).attended
    response = post(client, path, action="attended", ids=[str(a.id), str(b.id)], confirmed="yes")
    assert response.status_code == 302
    assert fresh(a).attended and fresh(b).attended
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "attendance")) == 2
    # Move up is refused while full, saying why; cancelling a confirmed seat promotes the waiting person.
    refused = post(client, path, action="move_up", ids=[str(waiting.id)], confirmed="yes")
    assert fresh(waiting).status == RegistrationStatus.WAITLISTED
    text = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "0 registrations updated." in text
    assert "1 left as it was: the webinar is full: free a seat" in text
    post(client, path, action="cancel", ids=[str(a.id)], confirmed="yes")
    assert fresh(a).status == RegistrationStatus.CANCELLED
    assert fresh(waiting).status == RegistrationStatus.CONFIRMED
    kinds = db.session.scalars(db.select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["cancelled", "promoted"]


def test_attendance_waits_for_the_webinar_and_says_why(app, client, editor):
    webinar = make_webinar(starts_at=now() + timedelta(days=60))
    person, = _people(webinar, 1)
    bulk = post(client, f"/organiser/webinars/{webinar.id}/registrations/bulk", action="attended",
                ids=[str(person.id)], confirmed="yes")
    assert not fresh(person).attended
    text = client.get(bulk.headers["Location"]).get_data(as_text=True)
    assert "This webinar has not started yet" in text and "Check-in at the door opens at" in text
    checkin = post(client, f"/organiser/webinars/{webinar.id}/checkin/{person.id}", present="yes")
    assert checkin.status_code == 422 and not fresh(person).attended
    assert "has not started yet" in checkin.get_data(as_text=True)
    # Already marked, cancelled: each refusal names its reason too.
    webinar.starts_at = now() - timedelta(minutes=5)
    person.attended = True
    gone, = _people(webinar, 1, status=RegistrationStatus.CANCELLED)
    bulk = post(client, f"/organiser/webinars/{webinar.id}/registrations/bulk", action="attended",
                ids=[str(person.id), str(gone.id)], confirmed="yes")
    text = client.get(bulk.headers["Location"]).get_data(as_text=True)
    assert "already marked as attended" in text and "the registration is cancelled" in text


def test_bulk_move_up_when_a_seat_is_free(app, client, editor):
    webinar = make_webinar(capacity=5)
    waiting, = _people(webinar, 1, status=RegistrationStatus.WAITLISTED)
    post(client, f"/organiser/webinars/{webinar.id}/registrations/bulk", action="move_up", ids=[str(waiting.id)],
         confirmed="yes")
    assert fresh(waiting).status == RegistrationStatus.CONFIRMED


def test_bulk_bad_input(app, client, editor):
    webinar, other = make_webinar(starts_at=now() - timedelta(hours=1)), make_webinar()
    stranger, = _people(other, 1)
    path = f"/organiser/webinars/{webinar.id}/registrations/bulk"
    assert post(client, path, action="attended").status_code == 303  # nothing selected
    assert post(client, path, action="explode", ids=["1"]).status_code == 303
    assert post(client, path, action="attended", ids=["abc", "-1"], confirmed="yes").status_code == 303
    post(client, path, action="attended", ids=[str(stranger.id)], confirmed="yes")
    assert not fresh(stranger).attended  # another webinar's registration is out of reach


def test_checkin_marks_and_undoes_attendance(app, client, editor):
    webinar = make_webinar(starts_at=now() - timedelta(minutes=5))
    person, = _people(webinar, 1, full_name="Marie-Ève Tremblay")
    _people(webinar, 1, full_name="Cancelled Person", status=RegistrationStatus.CANCELLED)
    page = get(client, f"/organiser/webinars/{webinar.id}/checkin?q=marie").get_data(as_text=True)
    assert "Marie-Ève Tremblay" in page and "Cancelled Person" not in page
    path = f"/organiser/webinars/{webinar.id}/checkin/{person.id}"
    response = post(client, path, present="yes", q="marie")
    assert response.status_code == 302 and "q=marie" in response.location
    assert fresh(person).attended
    post(client, path, present="no")
    assert not fresh(person).attended
    assert post(client, f"/organiser/webinars/{webinar.id}/checkin/99999", present="yes").status_code == 404


# ---------------------------------------------------------------- CSV

def _csv(response):
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8")[1:])))


def test_csv_export_has_bom_accents_neutralised_cells_and_filters(app, client, editor):
    webinar = make_webinar()
    make_registration(webinar, full_name="=HYPERLINK(\"http://evil\")", organisation_name="@SUM(A1)",
                      sector=Sector.EDUCATION)
    make_registration(webinar, full_name="Zoë Lévesque", organisation_name="Université de Montréal",
                      sector=Sector.ACADEMIA, attended=True)
    make_registration(webinar, full_name="Gone", status=RegistrationStatus.CANCELLED)
    response = get(client, f"/organiser/webinars/{webinar.id}/registrations.csv?sort=name")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert len(rows) == 3
    names = {r["full_name"] for r in rows}
    assert "'=HYPERLINK(\"http://evil\")" in names and "Zoë Lévesque" in names
    assert {r["organisation"] for r in rows} >= {"'@SUM(A1)", "Université de Montréal"}
    rows = _csv(get(client, f"/organiser/webinars/{webinar.id}/registrations.csv?attended=yes"))
    assert [r["full_name"] for r in rows] == ["Zoë Lévesque"]
    rows = _csv(get(client, f"/organiser/webinars/{webinar.id}/registrations.csv?status=cancelled"))
    assert [r["full_name"] for r in rows] == ["Gone"]
    rows = _csv(get(client, f"/organiser/webinars/{webinar.id}/registrations.csv?q=montr%C3%A9al"))
    assert [r["full_name"] for r in rows] == ["Zoë Lévesque"]


# ---------------------------------------------------------------- messages

def test_message_preview_then_send_one_email_each(app, client, editor):
    webinar = make_webinar()
    attended = _people(webinar, 2, attended=True)
    _people(webinar, 1)  # confirmed, not attended
    _people(webinar, 1, status=RegistrationStatus.CANCELLED, attended=True)
    path = f"/organiser/webinars/{webinar.id}/message"
    fields = {"audience": "attended", "subject": "Slides are online", "body": "Dear all,\n\nHere they are."}
    response = post(client, path, **fields)
    assert response.status_code == 200 and "Send to 3 people" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 0
    response = post(client, path, **fields, confirmed="yes")
    assert response.status_code == 302
    messages = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == "organiser_message")).all()
    assert len(messages) == 3 and all("Here they are." in m.body_text for m in messages)
    assert {a.id for a in attended} <= {m.registration_id for m in messages}
    record = db.session.scalar(db.select(WebinarMessage))
    assert record.recipient_count == 3 and record.organiser_id == editor.id
    assert "Slides are online" in get(client, f"/organiser/webinars/{webinar.id}").get_data(as_text=True)
    # A replayed send does not email everyone twice.
    assert post(client, path, **fields, confirmed="yes").status_code == 409
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 3


def test_a_replayed_message_as_a_browser_sends_it_is_not_sent_twice(app, client, editor):
    """Browsers send CRLF line endings; the stored message has LF and no trailing spaces."""
    webinar = make_webinar()
    _people(webinar, 2)
    path = f"/organiser/webinars/{webinar.id}/message"
    fields = {"audience": "all", "subject": "Slides", "body": "Hello all,  \r\n\r\nSee you soon.\r\n"}
    assert post(client, path, **fields, confirmed="yes").status_code == 302
    assert post(client, path, **fields, confirmed="yes").status_code == 409
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 2


def test_message_bad_input(app, client, editor):
    webinar = make_webinar()
    path = f"/organiser/webinars/{webinar.id}/message"
    for fields in ({"audience": "everyone", "subject": "x", "body": "y"}, {"audience": "all", "subject": "",
                   "body": "y"}, {"audience": "all", "subject": "s" * 201, "body": "y"},
                   {"audience": "all", "subject": "x", "body": ""}):
        assert post(client, path, **fields, confirmed="yes").status_code == 422, fields
    assert db.session.scalar(db.select(db.func.count()).select_from(WebinarMessage)) == 0


# ---------------------------------------------------------------- fixed query counts

@pytest.mark.parametrize("path", [
    "/organiser/",
    "/organiser/?webinar={id}",
    "/organiser/webinars/{id}/registrations",
    "/organiser/webinars/{id}/registrations?q=person&status=confirmed&sort=name",
    "/organiser/webinars/{id}/checkin?q=person",
    "/organiser/webinars/{id}",
    "/organiser/webinars/{id}/registrations.csv",
])
def test_pages_issue_a_fixed_number_of_queries(app, client, editor, count_queries, path):
    counts = []
    for size in (2, 60):
        webinars = [make_webinar() for _ in range(size // 20 + 1)]
        for n in range(size):
            make_registration(webinars[n % len(webinars)], sector=list(Sector)[n % 9], region="ON",
                              created_at=now() - timedelta(days=n % 7))
        db.session.commit()
        with count_queries() as counter:
            response = client.get(path.format(id=webinars[0].id))
            response.get_data()
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("raw", ["²", "٣", "99999999999999999999999"])
def test_bulk_ids_that_are_not_ids_select_nobody(app, client, editor, raw):
    webinar = make_webinar(starts_at=now() - timedelta(hours=1))
    person, = _people(webinar, 1)
    response = post(client, f"/organiser/webinars/{webinar.id}/registrations/bulk", action="attended",
                    ids=[raw], confirmed="yes")
    assert response.status_code in (302, 303)
    assert not fresh(person).attended


def test_a_bulk_tick_makes_a_report_decided_attendee_a_hand_tick(app, client, editor):
    """Hand ticks survive a threshold change; a report's decision does not."""
    from portal.models import AttendanceSource
    from portal.services import attendance

    webinar = make_webinar(starts_at=now() - timedelta(hours=3))
    person, = _people(webinar, 1, attended=True)
    person.attendance_source, person.attended_minutes = AttendanceSource.REPORT, 20
    response = post(client, f"/organiser/webinars/{webinar.id}/registrations/bulk", action="attended",
                    ids=[str(person.id)], confirmed="yes")
    assert response.status_code in (302, 303)
    assert fresh(person).attendance_source == AttendanceSource.HAND
    attendance.set_threshold(webinar, 60)
    assert fresh(person).attended
