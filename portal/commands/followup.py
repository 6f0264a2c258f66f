"""`flask followup send`: the follow-up email after each webinar whose attendance is final; run it from cron."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.services import followup

group = AppGroup("followup", help="Thank attendees and reach out to no-shows after a webinar.")


@group.command("send")
def send() -> None:
    """Queue the follow-up once per confirmed registration of webinars whose attendance is final (never twice)."""
    queued = already = 0
    webinars = followup.webinars_ready()
    for webinar in webinars:
        report = followup.send_for(webinar)
        db.session.commit()  # one webinar at a time: an interruption keeps what was queued
        queued += report.queued
        already += report.already
        click.echo(f"{webinar.title}: {report.queued} follow-ups queued, {report.already} already sent")
    click.echo(f"followup send: {queued} follow-ups queued ({already} already sent) "
               f"for {len(webinars)} webinars with final attendance")
