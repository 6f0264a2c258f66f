"""The audit log (admins): filter by action, organiser, kind of record and date."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import render_template, request
from sqlalchemy.orm import joinedload

from portal import labels
from portal.extensions import db
from portal.models import AuditEvent, Organiser
from portal.organiser import bp
from portal.organiser.access import ADMINS, role_required

PAGE_SIZE = 50
UTC = ZoneInfo("UTC")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/audit")
@role_required(*ADMINS)
def audit_log():
    args = request.args
    action = (args.get("action") or "")[:40]
    target_type = (args.get("target_type") or "")[:40]
    organiser_id = args.get("organiser", type=int)
    since, until = _day(args.get("from")), _day(args.get("to"))
    page = max(1, min(args.get("page", 1, type=int) or 1, 100_000))

    statement = db.select(AuditEvent)
    if action:
        statement = statement.where(AuditEvent.action == action)
    if target_type:
        statement = statement.where(AuditEvent.target_type == target_type)
    if organiser_id:
        statement = statement.where(AuditEvent.organiser_id == organiser_id)
    if since:
        statement = statement.where(AuditEvent.created_at >= datetime.combine(since, time(), tzinfo=UTC))
    if until:
        statement = statement.where(AuditEvent.created_at < datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC))
    total = db.session.scalar(db.select(db.func.count()).select_from(statement.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    events = db.session.scalars(
        statement.options(joinedload(AuditEvent.organiser))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    actions = labels.choices(db.session.scalars(db.select(AuditEvent.action).distinct()), "audit_action")
    target_types = labels.choices(db.session.scalars(db.select(AuditEvent.target_type).distinct()), "record_kind")
    organisers = db.session.execute(db.select(Organiser.id, Organiser.name).order_by(Organiser.name)).all()
    filters = {"action": action, "target_type": target_type, "organiser": organiser_id or "",
               "from": args.get("from", "") if since else "", "to": args.get("to", "") if until else ""}
    kept = {k: v for k, v in filters.items() if v}
    return render_template("organiser/audit.html", events=events, total=total, page=page, pages=pages,
                           actions=actions, target_types=target_types, organisers=organisers,
                           filters=filters, kept=kept)
