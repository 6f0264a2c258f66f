"""audiences: who may attend a webinar, pending/declined registrations, invitations

A webinar's ``audience`` (public, approval, restricted, invitation; existing
webinars stay public), a series' allowed email domains, two new registration
statuses (pending: waits for an organiser and holds no seat; declined) with the
decision's time, reason and note, and personal invitations.

The one-active-registration-per-email index keeps its predicate
(``status != 'cancelled'``): pending and declined both count as active, so a
person waiting for or refused a decision who registers again is sent their
link, not queued twice. SQLite changes the status CHECK by copying the
table, and cannot reflect the expression index on the sign-up day: that one
is dropped first and built again after (on both databases, for one code path).

Revision ID: 0011_audiences
Revises: 0007_region_codes (merged from i9-app; was 0004_outbox_calendar_language)
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_audiences"
down_revision = "0007_region_codes"
branch_labels = None
depends_on = None

OLD_STATUSES = ("confirmed", "waitlisted", "cancelled")
NEW_STATUSES = ("pending", "confirmed", "waitlisted", "declined", "cancelled")


def _status_type(values):
    return sa.Enum(*values, name="registration_status", native_enum=False, create_constraint=True, length=32)


def _audience_type():
    return sa.Enum("public", "approval", "restricted", "invitation", name="webinar_audience", native_enum=False,
                   create_constraint=True, length=32)


def _reason_type():
    return sa.Enum("not_eligible", "not_verified", "no_space", "other", name="decline_reason", native_enum=False,
                   create_constraint=True, length=32)


def _day_index():
    op.create_index("ix_registration_created_day", "registration", [sa.text("date(created_at)"), "created_at"],
                    unique=False)


def upgrade():
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("allowed_email_domains", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("webinar") as batch:
        batch.add_column(sa.Column("audience", _audience_type(), nullable=False, server_default="public"))
    op.drop_index("ix_registration_created_day", table_name="registration")
    with op.batch_alter_table("registration") as batch:
        batch.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("declined_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("decline_reason", _reason_type(), nullable=True))
        batch.add_column(sa.Column("decline_note", sa.Text(), nullable=True))
        batch.alter_column("status", existing_type=_status_type(OLD_STATUSES), type_=_status_type(NEW_STATUSES),
                           existing_nullable=False)
    _day_index()
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webinar_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_normalised", sa.String(length=254), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["webinar_id"], ["webinar.id"], name=op.f("fk_invitation_webinar_id_webinar"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"],
                                name=op.f("fk_invitation_registration_id_registration"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["invited_by_id"], ["organiser.id"],
                                name=op.f("fk_invitation_invited_by_id_organiser")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitation_token_hash")),
    )
    with op.batch_alter_table("invitation") as batch:
        batch.create_index("ix_invitation_webinar_id", ["webinar_id"], unique=False)
        batch.create_index("uq_invitation_webinar_email", ["webinar_id", "email_normalised"], unique=True)


def downgrade():
    op.drop_table("invitation")
    # Pending and declined people had no seat: they leave as cancelled rather than block the downgrade.
    op.execute("UPDATE registration SET status = 'cancelled' WHERE status IN ('pending', 'declined')")
    op.drop_index("ix_registration_created_day", table_name="registration")
    with op.batch_alter_table("registration") as batch:
        batch.alter_column("status", existing_type=_status_type(NEW_STATUSES), type_=_status_type(OLD_STATUSES),
                           existing_nullable=False)
        # Its CHECK goes with the type, before the column (SQLite's copy would keep it otherwise).
        batch.alter_column("decline_reason", existing_type=_reason_type(), type_=sa.String(length=32))
        batch.drop_column("decline_note")
        batch.drop_column("decline_reason")
        batch.drop_column("declined_at")
        batch.drop_column("approved_at")
    _day_index()
    with op.batch_alter_table("webinar") as batch:
        batch.alter_column("audience", existing_type=_audience_type(), type_=sa.String(length=32),
                           existing_nullable=False)
        batch.drop_column("audience")
    with op.batch_alter_table("series") as batch:
        batch.drop_column("allowed_email_domains")
