"""`flask feedback …` commands."""

import click
from flask.cli import AppGroup

group = AppGroup("feedback", help="feedback commands.")
