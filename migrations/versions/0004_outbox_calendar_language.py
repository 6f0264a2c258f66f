"""outbox: build the calendar attachment when the message is sent

Confirmations, promotions, reminders and new-time messages carry the
webinar's .ics. It used to be built in the request that queued the message
and stored with it (a few kilobytes per registration, and a quarter of a
registration's database work to tell whether a cached file was still
current). Now the row says which language the calendar is to be in and the
sender builds it from the webinar as it is when the message leaves; ``ics``
stays for messages queued before this change.

Revision ID: 0004_outbox_calendar_language
Revises: 0003_organiser_signup_day_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_outbox_calendar_language"
down_revision = "0003_organiser_signup_day_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("calendar_language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("calendar_language")
