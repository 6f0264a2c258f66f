"""`flask feedback …`: invite registrants to give feedback; run it from cron (daily or hourly)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.services import feedback, feedback_reminders

group = AppGroup("feedback", help="Ask registrants for feedback after their webinar.")


@group.command("invite")
def invite() -> None:
    """Queue one invitation per confirmed registration of ended webinars whose feedback is open (never twice)."""
    queued = already = 0
    webinars = feedback.webinars_to_invite()
    for webinar in webinars:
        report = feedback.invite(webinar)
        db.session.commit()  # one webinar at a time: an interruption keeps what was queued
        queued += report.queued
        already += report.already
        click.echo(f"{webinar.title}: {report.queued} invitations queued, {report.already} already sent")
    click.echo(f"feedback invite: {queued} invitations queued ({already} already sent) "
               f"for {len(webinars)} webinars with feedback open")


@group.command("remind")
def remind() -> None:
    """Queue one reminder to attendees who have not answered, FEEDBACK_REMINDER_DAYS_BEFORE days before feedback
    closes (never twice)."""
    queued = already = 0
    webinars = feedback_reminders.webinars_to_remind()
    for webinar in webinars:
        report = feedback_reminders.remind(webinar)
        db.session.commit()
        queued += report.queued
        already += report.already
        click.echo(f"{webinar.title}: {report.queued} reminders queued, {report.already} already sent")
    click.echo(f"feedback remind: {queued} reminders queued ({already} already sent) "
               f"for {len(webinars)} webinars whose feedback closes soon")
