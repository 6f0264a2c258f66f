"""`flask reminders …` commands."""

import click
from flask.cli import AppGroup

group = AppGroup("reminders", help="reminders commands.")
