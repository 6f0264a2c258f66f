"""`flask privacy …` commands."""

import click
from flask.cli import AppGroup

group = AppGroup("privacy", help="privacy commands.")
