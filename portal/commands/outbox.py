"""`flask outbox …`: deliver queued email, once or as a long-running worker."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.services.outbox import DeliveryReport, deliver_all_due

group = AppGroup("outbox", help="Deliver the email waiting in the outbox.")


@group.command("send")
@click.option("--loop", is_flag=True, help="Keep running: deliver, wait, deliver again (a worker).")
@click.option("--interval", default=30, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds between passes with --loop.")
@click.option("--batch", default=50, show_default=True, type=click.IntRange(1, 1000),
              help="Messages claimed per pass.")
@click.option("--passes", default=0, type=click.IntRange(0), hidden=True,
              help="Stop a --loop after this many passes (0 = never); for tests.")
def send(loop: bool, interval: int, batch: int, passes: int) -> None:
    """Send every message that is due; failures are retried later with backoff."""
    if not loop:
        click.echo(deliver_all_due(batch=batch).summary())
        return
    total = DeliveryReport()
    done = 0
    try:
        while True:
            report = deliver_all_due(batch=batch)
            total.add(report)
            done += 1
            if report.claimed:
                click.echo(report.summary())
            if passes and done >= passes:
                break
            db.session.remove()  # do not keep a connection (or a snapshot) while idle
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    click.echo(total.summary() + f" ({done} passes)")
