"""site identity: the organisation's name, logo, accent colour and footer links

Set by an administrator on the dashboard's "Site identity" page; without a row the
settings' defaults (PORTAL_ORG_NAME_EN…) apply, so existing installations look as
configured until someone saves the page.

Revision ID: 0010_site_identity
Revises: 0009_certificates
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_site_identity"
down_revision = "0009_certificates"
branch_labels = None
depends_on = None

_TEXTS = [("name_en", 200), ("name_fr", 200), ("logo_type", 40), ("logo_alt_en", 200),
          ("logo_alt_fr", 200), ("accent", 7)] + [
    (f"{kind}_url_{lang}", 500) for kind in ("privacy", "accessibility", "contact", "terms")
    for lang in ("en", "fr")]


def upgrade():
    op.create_table(
        "site_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.String(length=size), nullable=False) for name, size in _TEXTS],
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_identity")),
    )


def downgrade():
    op.drop_table("site_identity")
