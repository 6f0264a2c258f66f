"""Importing a 50 000-row attendance report: time and peak memory.

Run: ``.venv/bin/python bench/attendance_import.py`` (throw-away SQLite file under
``bench/out/``) or ``… --database-url postgresql+psycopg://…/scratch`` (that
database's schema ``public`` is DROPPED and rebuilt: give it a scratch database).

1. Builds the schema with the real migrations, one past webinar and ``--people``
   confirmed registrations.
2. Writes a report of ``--rows`` join/leave rows under ``bench/out/``: a Zoom meeting
   participant report (UTF-8, comma-separated) or, with ``--format teams``, the classic
   Teams download (UTF-16, tab-separated, "In-Meeting Activities" rows). Everyone
   joins several times with overlaps; 5 % of the people are not registered (they
   become "unmatched" with a suggestion by name).
3. ``--rounds`` times: reads the report alone (parse), then imports it for real
   (parse, match, replace the previous import, commit), and prints the median times;
   then once more each under tracemalloc for the peak of Python allocations (apart,
   as tracemalloc slows everything down). Later imports replace the first, as a
   corrected report would.
4. Once, through the organiser's page (Flask test client, multipart upload, CSRF):
   the time of the whole POST.
"""

from __future__ import annotations

import argparse
import codecs
import hashlib
import io
import os
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from dashboard import make_app, reset_database, settle  # noqa: E402

PASSWORD = "bench password, not secret"  # noqa: S105  (a throw-away bench account)


def write_report(path: str, rows: int, people: int, kind: str) -> None:
    """``rows`` join/leave rows over ``people`` people (each 2-minute stay overlapping the next)."""
    start = datetime(2026, 3, 10, 13, 0)
    teams = kind == "teams"
    separator = "\t" if teams else ","
    with open(path, "wb") as raw:
        out = codecs.getwriter("utf-16-le" if teams else "utf-8")(raw)
        if teams:
            raw.write(codecs.BOM_UTF16_LE)
            out.write(f"1. Summary\r\nMeeting title\tBench webinar\r\nAttended participants\t{people}\r\n\r\n"
                      "2. Participants\r\nName\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\t"
                      "Participant ID (UPN)\tRole\r\n\r\n3. In-Meeting Activities\r\n"
                      "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole\r\n")
        else:
            out.write("Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\r\n"
                      "812 3456 7890,Bench webinar,03/10/2026 01:00:00 PM,03/10/2026 02:30:00 PM,"
                      f"host@example.org,90,{people}\r\n\r\n"
                      "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\r\n")
        for i in range(rows):
            person = i % people
            joined = start + timedelta(seconds=(i // people) * 90)
            left = joined + timedelta(minutes=2)
            if teams:
                cells = (f"Person {person}", f"{joined:%m/%d/%y, %I:%M:%S %p}", f"{left:%m/%d/%y, %I:%M:%S %p}",
                         "2m", f"person{person}@example.org", "Attendee")
            else:
                cells = (f"Person {person}", f"person{person}@example.org", f"{joined:%m/%d/%Y %I:%M:%S %p}",
                         f"{left:%m/%d/%Y %I:%M:%S %p}", "2", "No")
            out.write(separator.join(cells) + "\r\n")


def build(url: str, people: int) -> int:
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from portal.extensions import db
    from portal.models import Organiser, Registration, Role, Series, Webinar, WebinarStatus

    upgrade()
    series = Series(slug="bench", title="Bench series", published=True)
    webinar = Webinar(series=series, slug="bench-webinar", title="Bench webinar", status=WebinarStatus.PUBLISHED,
                      starts_at=datetime.now(UTC) - timedelta(days=1), duration_minutes=90)
    db.session.add_all([series, webinar, Organiser(
        email="bench@example.org", name="Bench", role=Role.ORGANISER,
        password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))])
    db.session.flush()
    registered = people - people // 20  # 5 % of the report's people never registered
    moment = datetime.now(UTC) - timedelta(days=10)
    rows = [{
        "webinar_id": webinar.id, "full_name": f"Person {n}", "email": f"person{n}@example.org",
        "email_normalised": f"person{n}@example.org", "status": "confirmed", "attended": False,
        "preferred_language": "en", "consented_at": moment, "created_at": moment, "updated_at": moment,
        "token_hash": hashlib.sha256(f"bench{n}".encode()).hexdigest(),
    } for n in range(registered)]
    for start in range(0, len(rows), 5000):
        db.session.execute(db.insert(Registration), rows[start:start + 5000])
    db.session.commit()
    settle(db.engine)
    return webinar.id


def timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def peak_of(action) -> int:
    """Largest Python allocation peak during ``action`` (a separate run: tracemalloc slows it down)."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def parse_only(path: str) -> int:
    from portal.services.attendance_reports import open_report

    with open(path, "rb") as stream:
        return sum(1 for _ in open_report(stream).rows())


def import_once(webinar_id: int, path: str):
    from portal.extensions import db
    from portal.models import Webinar
    from portal.services import attendance

    webinar = db.session.get(Webinar, webinar_id)
    with open(path, "rb") as stream:
        receipt = attendance.import_report(webinar, stream, filename=os.path.basename(path))
    db.session.commit()
    return receipt.rows_read, receipt.people_matched, receipt.people_unmatched


def through_the_page(app, webinar_id: int, path: str) -> tuple[int, float]:
    from tests.conftest import csrf_token_from

    client = app.test_client()
    page = client.get("/organiser/login")
    client.post("/organiser/login", data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                          "email": "bench@example.org", "password": PASSWORD})
    token = csrf_token_from(client.get(f"/organiser/webinars/{webinar_id}/attendance").get_data(as_text=True))
    with open(path, "rb") as stream:
        content = stream.read()
    started = time.perf_counter()
    response = client.post(f"/organiser/webinars/{webinar_id}/attendance/import",
                           data={"csrf_token": token, "report": (io.BytesIO(content), os.path.basename(path))},
                           content_type="multipart/form-data")
    return response.status_code, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///" + os.path.join(ROOT, "bench", "out", "attendance.db"))
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--format", choices=("zoom", "teams"), default="zoom")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    reset_database(args.database_url)
    report = os.path.join(ROOT, "bench", "out", f"attendance-{args.format}-{args.rows}.csv")
    write_report(report, args.rows, args.people, args.format)
    app = make_app(args.database_url)
    with app.app_context():
        webinar_id = build(args.database_url, args.people)
        print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, report: {args.format}, "
              f"{args.rows} rows, {os.path.getsize(report) / 1e6:.1f} MB, {args.people} people; "
              f"load average {os.getloadavg()[0]:.2f}")
        parse_times, import_times = [], []
        for _round in range(args.rounds):
            rows, seconds = timed(lambda: parse_only(report))
            parse_times.append(seconds)
            counts, seconds = timed(lambda: import_once(webinar_id, report))
            import_times.append(seconds)
        parse_peak = peak_of(lambda: parse_only(report))
        import_peak = peak_of(lambda: import_once(webinar_id, report))
        print(f"parse only:  {rows} rows, median {statistics.median(parse_times):.2f} s "
              f"(of {args.rounds}), peak {parse_peak / 1e6:.2f} MB of Python allocations")
        print(f"full import: {counts[0]} rows, {counts[1]} matched, {counts[2]} unmatched; median "
              f"{statistics.median(import_times):.2f} s, peak {import_peak / 1e6:.2f} MB")
        status, seconds = through_the_page(app, webinar_id, report)
        print(f"POST /organiser/webinars/…/attendance/import: {status} in {seconds:.2f} s")


if __name__ == "__main__":
    main()
