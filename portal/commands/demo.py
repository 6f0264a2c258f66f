"""`flask demo …` commands."""

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.services.demo import load_demo_series

group = AppGroup("demo", help="Load the demonstration series.")


@group.command("load")
@click.option("--upcoming", is_flag=True,
              help="Shift the dates so the first webinar is 14 days ahead, keeping the gaps.")
@click.option("--with-registrations", is_flag=True,
              help="Add a few hundred clearly fake registrations, and fake feedback for past webinars.")
def load(upcoming: bool, with_registrations: bool) -> None:
    """Load the 2022-2023 series from the seed document; loading twice changes nothing."""
    summary = load_demo_series(
        upcoming=upcoming,
        with_registrations=with_registrations,
        progress=lambda line: click.echo(f"  {line}"),
    )
    db.session.commit()
    click.echo(summary.line())
