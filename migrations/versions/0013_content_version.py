"""public pages: one content version number for the page cache

Cached anonymous pages are keyed on this number; every transaction that changes
the programme raises it, so no worker or host serves a page older than the data.
The row exists from the start (id 1), so raising it is always a plain UPDATE.

Revision ID: 0013_content_version
Revises: 0010_site_identity
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_content_version"
down_revision = "0010_site_identity"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 1}])


def downgrade():
    op.drop_table("content_version")
