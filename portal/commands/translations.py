"""`flask translations …`: a series' texts as a CSV for a translator, and back."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.services import translations

group = AppGroup("translations", help="Export and import the English and French texts of a series.")


@group.command("export")
@click.option("--series", "slug", required=True, help="The series' slug.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write (default: standard output).")
def export(slug: str, output: str | None) -> None:
    """Write key,context,en,fr rows for every text of the series (UTF-8 CSV)."""
    series = translations.load_series(slug)
    if series is None:
        raise click.ClickException(f"no series with the slug {slug!r}")
    data = translations.export_csv(series)
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
        rows = data.count(b"\r\n") - 1
        click.echo(f"translations: {rows} rows written to {output}", err=True)
    else:
        sys.stdout.buffer.write(data)


@group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--series", "slug", default=None, help="Refuse keys that are not texts of this series.")
def import_(path: str, slug: str | None) -> None:
    """Store the English and French of every row; nothing is written when any row is wrong."""
    series = None
    if slug:
        series = translations.load_series(slug)
        if series is None:
            raise click.ClickException(f"no series with the slug {slug!r}")
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        summary = translations.import_csv(data, series)
    except translations.TranslationFileError as error:
        db.session.rollback()
        raise click.ClickException("nothing imported:\n" + "\n".join(error.problems)) from error
    db.session.commit()
    click.echo(str(summary))
