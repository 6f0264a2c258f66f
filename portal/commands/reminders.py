"""`flask reminders …`: queue reminder emails; run it from cron (hourly is plenty)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.services.reminders import queue_due_reminders

group = AppGroup("reminders", help="Remind registrants before their webinar.")


@group.command("send")
def send() -> None:
    """Queue one reminder per confirmed registrant of webinars starting soon (never twice)."""
    report = queue_due_reminders(progress=click.echo)
    click.echo(report.summary())
