"""The sign-ups overview: every webinar's figures and the sign-up charts, on one page.

Charts are inline SVG computed here (no JavaScript: the CSP forbids inline
scripts and screen readers get the same numbers as a table).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal import dates
from portal.labels import label
from portal.models.types import utcnow
from portal.organiser import bp
from portal.organiser.access import READERS, role_required
from portal.services import accessibility_needs, attendance
from portal.services import signups as figures

#: Drawn at this size (the SVG never shrinks below it: its box scrolls on a phone instead), so
#: the 14-unit labels are 14 px.
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 720, 260, 40


@bp.app_context_processor
def organiser_helpers():
    return {"now_utc": utcnow()}


@bp.get("/")
@role_required(*READERS)
def dashboard():
    """Counts per webinar, then the charts (all webinars, or the one chosen in the form)."""
    rows = figures.overview()
    now = utcnow()
    upcoming = [row for row in rows if row.webinar.ends_at > now]
    past = [row for row in rows if row.webinar.ends_at <= now]
    webinar_id = request.args.get("webinar", type=int)
    days = figures.per_day(webinar_id)
    return render_template(
        "organiser/dashboard.html",
        upcoming=list(reversed(upcoming)),
        needs=figures.needs_by_webinar([row.webinar.id for row in upcoming]),
        need_labels=accessibility_needs.KIND_LABELS,
        past=past,
        webinars=[(row.webinar.id, row.webinar.title) for row in rows],
        webinar_id=webinar_id,
        days=days,
        chart=daily_chart(days),
        sectors=share_bars(figures.by_sector(webinar_id)),
        regions=share_bars(figures.by_region(webinar_id), "region"),
        attendance=attendance.figures(),
        attendance_sectors=[(label(row.sector) if row.sector else _("Not given"), row)
                            for row in attendance.by_sector(webinar_id, now=now)],
        width=CHART_WIDTH, height=CHART_HEIGHT, pad=CHART_PAD,
    )


@bp.get("/signups")
@role_required(*READERS)
def signups():
    """The charts had a page of their own once: old bookmarks land on the overview's charts."""
    webinar_id = request.args.get("webinar", type=int)
    return redirect(url_for("organiser.dashboard", webinar=webinar_id, _anchor="signups"), 301)


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass
class DailyChart:
    bars: list[Bar]
    line: str  # polyline points for the cumulative total
    peak: int
    total: int
    first_label: str
    last_label: str


def daily_chart(days: list) -> DailyChart | None:
    """Bars for sign-ups per day, a line for the running total, each on its own scale."""
    if not days:
        return None
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    peak = max(count for _day, count, _total in days) or 1
    total = days[-1][2] or 1
    step = inner_w / len(days)
    bars, points = [], []
    for index, (day, count, running) in enumerate(days):
        height = inner_h * count / peak
        x = CHART_PAD + index * step
        bars.append(Bar(round(x + step * 0.1, 2), round(CHART_PAD + inner_h - height, 2),
                        round(max(step * 0.8, 0.5), 2), round(height, 2), dates.day_label(day), count))
        points.append(f"{round(x + step / 2, 2)},{round(CHART_PAD + inner_h - inner_h * running / total, 2)}")
    return DailyChart(bars, " ".join(points), peak, days[-1][2], dates.day_label(days[0][0]), dates.day_label(days[-1][0]))


def share_bars(rows: list[tuple[object, int]], kind: str | None = None) -> list[tuple[str, int, float]]:
    """(word, count, percent of the largest) for horizontal bars; ``kind`` as for ``labels.label``."""
    largest = max((n for _v, n in rows), default=0) or 1
    unknown = _("Not given")
    return [(label(value, kind) if value else unknown, n, round(100 * n / largest, 1)) for value, n in rows]
