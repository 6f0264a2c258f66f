"""`flask demo …` commands."""

import os

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


DEMO_ORGANISER_EMAIL = "demo.organiser@example.org"


@group.command("organiser")
def organiser() -> None:
    """Create (once) the demo's administrator and print how to sign in.

    The password is random, written to ``instance/demo-organiser.txt`` (mode 600) so that
    every ``make run`` can print it again; production refuses, since a password on disk is
    only acceptable on a developer's machine.
    """
    from flask import current_app

    from portal.services.accounts import ensure_demo_organiser
    from portal.web import absolute_url

    if current_app.config.get("PORTAL_ENV") == "production":
        raise click.ClickException("the demo organiser is for development only; "
                                   "use 'flask --app portal organiser create' in production")
    password_file = current_app.config.get("DEMO_ORGANISER_FILE") or os.path.join(
        current_app.instance_path, "demo-organiser.txt")
    password = ensure_demo_organiser(DEMO_ORGANISER_EMAIL, password_file)
    db.session.commit()
    login_path = absolute_url("organiser.login")
    if password is None:
        click.echo(f"Organiser sign-in: {login_path} as {DEMO_ORGANISER_EMAIL} (its saved password "
                   "was removed); or make an account of your own with 'flask --app portal organiser "
                   "create --email you@example.org --name \"Your name\" --role admin'")
        return
    click.echo(f"Organiser sign-in: {login_path}  email {DEMO_ORGANISER_EMAIL}  password {password}")
