"""`flask outbox …` commands."""

import click
from flask.cli import AppGroup

group = AppGroup("outbox", help="outbox commands.")
