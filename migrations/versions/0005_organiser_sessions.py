"""organiser sessions end on the server; audit events keep the client address

``organiser.session_version`` is stamped into each organiser session at sign-in
and raised by logout and by a password change, so a cookie copied before either
no longer signs anyone in. Existing accounts start at 0 (sessions signed before
this change carry no stamp and must sign in again).

``audit_event.client_address`` records the address a sign-in or change came
from (the forwarded client address behind TRUSTED_PROXIES); existing events
have none.

Revision ID: 0005_organiser_sessions
Revises: 0004_outbox_calendar_language
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_organiser_sessions"
down_revision = "0004_outbox_calendar_language"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organiser") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("client_address", sa.String(length=45), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("client_address")
    with op.batch_alter_table("organiser") as batch:
        batch.drop_column("session_version")
