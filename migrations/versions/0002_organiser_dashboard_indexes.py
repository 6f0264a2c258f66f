"""organiser dashboard: covering indexes for the sign-up aggregates

With 100 000 registrations the dashboard's GROUP BY queries (per webinar by
status and attendance, by sector, by region) scanned the whole table; these
indexes let each one read an index only.

Revision ID: 0002_organiser_dashboard_indexes
Revises: 0001
"""
from alembic import op

revision = "0002_organiser_dashboard_indexes"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.create_index("ix_registration_webinar_attended_status", ["webinar_id", "attended", "status"],
                              unique=False)
        batch_op.create_index("ix_registration_sector_status", ["sector", "status", "webinar_id"], unique=False)
        batch_op.create_index("ix_registration_region_status", ["region", "status", "webinar_id"], unique=False)


def downgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_index("ix_registration_region_status")
        batch_op.drop_index("ix_registration_sector_status")
        batch_op.drop_index("ix_registration_webinar_attended_status")
