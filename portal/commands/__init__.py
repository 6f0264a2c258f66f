"""Command-line entry points (``flask --app portal …``); each group calls the services."""

from flask import Flask


def register_commands(app: Flask) -> None:
    from portal.commands import demo, feedback, organisers, outbox, privacy, reminders, translations

    for module in (demo, feedback, organisers, outbox, privacy, reminders, translations):
        app.cli.add_command(module.group)
