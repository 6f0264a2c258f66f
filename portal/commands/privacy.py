"""`flask privacy …`: remove personal data of past webinars; safe to run daily from cron."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.services import privacy

group = AppGroup("privacy", help="Remove personal data that is no longer needed.")


@group.command("purge")
@click.option("--older-than", "days", required=True, type=click.IntRange(0),
              help="Purge registrations of webinars that ended more than DAYS days ago.")
def purge(days: int) -> None:
    """Clear names, emails and other personal fields; counts, attendance and feedback answers stay."""
    report = privacy.purge_older_than(days)
    db.session.commit()
    for count in report.webinars:
        if count.registrations or count.emails:
            click.echo(f"{count.webinar.title}: {count.registrations} registrations, {count.emails} emails "
                       f"and {count.feedback_links} feedback links cleared")
    click.echo(report.summary())
