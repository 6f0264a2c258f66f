"""`flask organiser …` commands."""

import sys

import click
from flask.cli import AppGroup

group = AppGroup("organiser", help="organiser commands.")


def _read_password() -> str:
    """Hidden prompt with confirmation at a terminal; otherwise one line from stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@group.command("create")
@click.option("--email", required=True, help="Sign-in email address.")
@click.option("--name", required=True, help="Name shown in the dashboard and the audit log.")
@click.option("--role", type=click.Choice(["admin", "organiser", "viewer"]), default="organiser",
              show_default=True)
def create(email: str, name: str, role: str) -> None:
    """Create an organiser account; the password is asked for, never given as an option."""
    from portal.extensions import db
    from portal.services import accounts, audit

    password = _read_password()
    try:
        organiser = accounts.create_organiser(email=email, name=name, role=role, password=password)
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    audit.record("create", organiser, summary=f"{organiser.name} ({organiser.role.value}) from the command line",
                 organiser=None)
    db.session.commit()
    click.echo(f"Created {organiser.role.value} account for {organiser.email}.")
