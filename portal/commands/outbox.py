"""`flask outbox …`: deliver queued email, once or as a long-running worker."""

from __future__ import annotations

import logging

import click
from flask.cli import AppGroup

from portal.commands.worker_loop import StopSignal, run_until_stopped
from portal.services.outbox import DeliveryReport, deliver_all_due

logger = logging.getLogger("portal.worker")

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
    """Send every message that is due; failures are retried later with backoff.

    With ``--loop`` this is the email worker: database and mail server outages
    are logged and waited out (see ``worker_loop``); SIGTERM or SIGINT end it
    after the message in hand, with exit status 0.
    """
    if not loop:
        click.echo(deliver_all_due(batch=batch).summary())
        return
    total = DeliveryReport()
    def one_pass(stop: StopSignal) -> bool:
        report = deliver_all_due(batch=batch, stop=stop)
        total.add(report)
        if report.claimed:
            click.echo(report.summary())
            logger.info("outbox pass", extra={"sent": report.sent, "retrying": report.retrying,
                                               "failed": report.failed})
        if report.server_down:
            logger.warning("mail server unreachable, will retry")
        return not report.server_down

    with StopSignal() as stop:
        result = run_until_stopped(one_pass, interval, stop, max_passes=passes)
    click.echo(total.summary() + f" ({result.passes} passes)")
