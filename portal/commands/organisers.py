"""`flask organiser …` commands."""

import click
from flask.cli import AppGroup

group = AppGroup("organiser", help="organiser commands.")
