"""Reading Zoom, Teams and Webex attendance reports as they come out of each product
(files in tests/data/attendance/, fake people only), streamed, with every bad row named."""

from __future__ import annotations

import codecs
import io
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from portal.models import ReportFormat
from portal.services.attendance_reports import (
    PersonTotals,
    Problem,
    ReportUnreadable,
    Row,
    merge_intervals,
    open_report,
    parse_duration,
    union_minutes,
)

DATA = Path(__file__).parent / "data" / "attendance"


def read(stream) -> tuple:
    """(report, {email or name: minutes}, [(line, reason)])"""
    report = open_report(stream)
    people: dict[str, PersonTotals] = {}
    problems = []
    for item in report.rows():
        if isinstance(item, Problem):
            problems.append((item.line, item.reason))
        elif item.section != "absent":
            key = item.email.lower() or item.name
            people.setdefault(key, PersonTotals(item.name, item.email, item.line)).add(item)
    return report, {key: union_minutes([p]) for key, p in people.items()}, problems


def read_file(name: str):
    with open(DATA / name, "rb") as stream:
        return read(stream)


#: Amélie joined three times, from two devices (12:58:30-13:40:10, 13:35-13:50, 13:42-14:30):
#: 91 minutes once overlaps are counted once (the rows add up to 105).
EXPECTED = {
    "amelie.tremblay@example.org": 91, "jordan.okafor@example.org": 20, "marc.cote@gmail.com": 80,
    "zoe.nunez@example.org": 60,
}


@pytest.mark.parametrize(("name", "report_format", "encoding", "delimiter"), [
    ("zoom_meeting_participants.csv", ReportFormat.ZOOM_MEETING, "utf-8", ","),
    ("zoom_webinar_attendee_report.csv", ReportFormat.ZOOM_WEBINAR, "utf-8", ","),
    ("teams_attendance_report_utf16.csv", ReportFormat.TEAMS_TSV, "utf-16", "\t"),
    ("teams_attendance_report.csv", ReportFormat.TEAMS_CSV, "utf-8", ","),
    ("webex_attendee_report.csv", ReportFormat.WEBEX, "utf-8", ","),
    ("plain.csv", ReportFormat.PLAIN, "utf-8", ","),
])
def test_each_products_report_is_recognised_by_content_and_summed_without_overlaps(name, report_format, encoding,
                                                                                   delimiter):
    report, minutes, problems = read_file(name)
    assert (report.format, report.encoding, report.delimiter) == (report_format, encoding, delimiter)
    assert problems == []
    expected = dict(EXPECTED)
    if report_format == ReportFormat.WEBEX:
        expected["amelie.tremblay@example.org"] = 92  # Webex gives whole minutes: 12:58 to 14:30
    assert {k: v for k, v in minutes.items() if k in expected} == expected
    # The person without an email is kept by name for the organiser to match.
    assert any(key.startswith("Priya R.") or key == "priya.r@example.net" for key in minutes)
    # Names come through with their accents, whatever the file's encoding.
    assert "zoe.nunez@example.org" in minutes


def test_the_file_name_plays_no_part():
    with open(DATA / "teams_attendance_report_utf16.csv", "rb") as stream:
        renamed = io.BytesIO(stream.read())  # no name at all
    assert open_report(renamed).format == ReportFormat.TEAMS_TSV


def test_zoom_webinar_report_leaves_out_hosts_panelists_and_absent_registrants():
    _report, minutes, _problems = read_file("zoom_webinar_attendee_report.csv")
    assert "host@example.gc.ca" not in minutes and "robin.panelist@example.net" not in minutes
    assert "sam.lee@example.org" not in minutes  # Attended = No


def test_teams_uses_join_and_leave_rows_over_the_participant_total():
    # The participants section says 1h 45m for Amélie (first join to last leave); her
    # in-meeting activities say 91 minutes once overlaps are removed.
    _report, minutes, _problems = read_file("teams_attendance_report_utf16.csv")
    assert minutes["amelie.tremblay@example.org"] == 91


def test_teams_participants_section_alone_gives_the_total_duration():
    text = ("1. Summary\nMeeting title\tX\n\n2. Participants\n"
            "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole\n"
            "Ann Smith\t3/10/26, 1:00:00 PM\t3/10/26, 2:00:00 PM\t58m 30s\t\tann@example.org\tAttendee\n")
    report, minutes, problems = read(io.BytesIO(codecs.BOM_UTF16_LE + text.encode("utf-16-le")))
    assert report.format == ReportFormat.TEAMS_TSV and problems == []
    assert minutes == {"ann@example.org": 58}  # the UPN stands in for a missing email


def test_rows_that_cannot_be_used_are_named_with_their_line_and_reason():
    _report, minutes, problems = read_file("zoom_with_bad_rows.csv")
    assert minutes == {"amelie.tremblay@example.org": 91}
    assert problems == [(3, "bad_time"), (4, "no_identity"), (5, "leave_before_join"), (6, "bad_minutes")]


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"),
    (b"   \r\n\r\n  ", "empty"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "spreadsheet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "spreadsheet"),
    (bytes(range(256)) * 40, "binary"),
    (b"%PDF-1.7\n", "binary"),
])
def test_files_that_are_no_report_at_all(content, reason):
    with pytest.raises(ReportUnreadable) as refused:
        open_report(io.BytesIO(content))
    assert refused.value.reason == reason


def test_a_table_of_something_else_is_not_a_report():
    with pytest.raises(ReportUnreadable) as refused, open(DATA / "not_a_report.csv", "rb") as stream:
        open_report(stream)
    assert refused.value.reason == "unknown_format"


def test_windows_1252_file_without_a_byte_order_mark():
    report, minutes, problems = read_file("plain_windows1252.csv")
    assert report.encoding == "cp1252" and problems == []
    assert minutes["amelie.tremblay@example.org"] == 91
    _report2, _minutes, _ = read_file("plain_windows1252.csv")
    with open(DATA / "plain_windows1252.csv", "rb") as stream:
        names = {row.name for row in open_report(stream).rows()}
    assert "Amélie Tremblay" in names and "Zoë Ñúñez-Lukasiewicz" in names


def test_utf16_without_a_byte_order_mark_is_recognised():
    text = "name\temail\tminutes\nAnn Smith\tann@example.org\t50\n"
    for codec in ("utf-16-le", "utf-16-be"):
        report, minutes, _ = read(io.BytesIO(text.encode(codec)))
        assert report.encoding == "utf-16" and minutes == {"ann@example.org": 50}


def test_bytes_that_are_not_utf8_past_the_sample_spoil_only_their_row():
    good = "".join(f"Person {i},person{i}@example.org,50\n" for i in range(3000)).encode()
    assert len(good) > 64 * 1024
    content = b"name,email,minutes\n" + good + b"Bad \xff\xfe Name,bad@example.org,50\nLast,last@example.org,60\n"
    report, minutes, problems = read(io.BytesIO(content))
    assert report.encoding == "utf-8"
    assert problems == [(3002, "unreadable_characters")]
    assert minutes["last@example.org"] == 60 and "bad@example.org" not in minutes


def test_hostile_cells_come_through_as_plain_text_without_control_characters():
    with open(DATA / "hostile.csv", "rb") as stream:
        rows = [row for row in open_report(stream).rows() if isinstance(row, Row)]
    names = {row.email: row.name for row in rows}
    assert names["formula@example.org"].startswith("=HYPERLINK(")
    assert names["html@example.org"] == "<script>alert('x')</script>"
    assert names["control@example.org"] == "BellNullEsc[31mRed"
    assert all(ch.isprintable() for row in rows for ch in row.name)


def test_a_cell_longer_than_csv_allows_is_one_bad_row():
    content = b"name,email,minutes\n" + b'"' + b"x" * 200_000 + b'",a@example.org,5\nAnn,ann@example.org,50\n'
    _report, minutes, problems = read(io.BytesIO(content))
    assert minutes == {"ann@example.org": 50}
    assert [reason for _line, reason in problems] == ["too_long"]


@pytest.mark.parametrize(("text", "seconds"), [
    ("65", 3900), ("65.5", 3930), ("1h 4m 24s", 3864), ("4m 32s", 272), ("45s", 45), ("58 mins", 3480),
    ("1 h 5 min", 3900), ("1:04:24", 3864), ("0:45", 2700), ("2 hours", 7200),
    ("", None), ("about an hour", None), ("--", None), ("1h and then some", None),
])
def test_durations_as_each_product_writes_them(text, seconds):
    assert parse_duration(text) == seconds


def test_overlapping_and_touching_intervals_are_merged():
    t = datetime(2026, 3, 10, 13, 0)
    m = timedelta(minutes=1)
    merged = merge_intervals([(t + 50 * m, t + 60 * m), (t, t + 30 * m), (t + 10 * m, t + 20 * m),
                              (t + 30 * m, t + 40 * m)])
    assert merged == [(t, t + 40 * m), (t + 50 * m, t + 60 * m)]


# ---------------------------------------------------------------- 50 000 rows, streamed

def write_big_report(path: Path, rows: int, people: int = 1000) -> Path:
    """A Zoom participant report of ``rows`` join/leave rows spread over ``people`` people."""
    start = datetime(2026, 3, 10, 13, 0)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\r\n")
        out.write("812 3456 7890,Big webinar,03/10/2026 01:00:00 PM,03/10/2026 02:30:00 PM,h@example.org,90,1\r\n\r\n")
        out.write("Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\r\n")
        for i in range(rows):
            person = i % people
            joined = start + timedelta(seconds=(i // people) * 7)
            left = joined + timedelta(minutes=2)
            out.write(f"Person {person},person{person}@example.org,{joined:%m/%d/%Y %I:%M:%S %p},"
                      f"{left:%m/%d/%Y %I:%M:%S %p},2,No\r\n")
    return path


def _peak_while_reading(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        with open(path, "rb") as stream:
            count = sum(1 for _ in open_report(stream).rows())
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_a_50000_row_report_is_streamed_in_flat_memory(tmp_path):
    big = write_big_report(tmp_path / "big.csv", 50_000)
    small = write_big_report(tmp_path / "small.csv", 5_000)
    assert big.stat().st_size > 4_000_000
    small_rows, small_peak = _peak_while_reading(small)
    big_rows, big_peak = _peak_while_reading(big)
    assert (small_rows, big_rows) == (5_000, 50_000)
    # Ten times the rows, about the same memory: nothing grows with the file.
    assert big_peak < small_peak * 1.5 + 64 * 1024, (small_peak, big_peak)
    assert big_peak < 1_000_000, big_peak
