"""certificates of attendance, materials, and their per-webinar and per-series settings

Certificates: one per attended registration, one per person (normalised email)
and series, each with a 192-bit public verification code (unique, so its lookup
is indexed), the printed name frozen at issue, and a revocation time. Materials:
links and uploaded files per webinar, files stored under generated names.
Existing webinars keep their duration as the hours credited (empty column);
their materials start private (``materials_public`` false), except that a
recording already shown on the public pages stays public.

Revision ID: 0009_certificates
Revises: 0008_attendance
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_certificates"
down_revision = "0008_attendance"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webinar_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('link', 'file', name='material_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('stored_name', sa.String(length=80), nullable=True),
    sa.Column('original_name', sa.String(length=255), nullable=True),
    sa.Column('content_type', sa.String(length=120), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['webinar_id'], ['webinar.id'], name=op.f('fk_material_webinar_id_webinar'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_material_stored_name'))
    )
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_material_webinar_id'), ['webinar_id'], unique=False)

    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('webinar', 'series', name='certificate_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('webinar_id', sa.Integer(), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('email_normalised', sa.String(length=254), nullable=True),
    sa.Column('printed_name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('credited_minutes', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.JSON(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('credited_minutes >= 0', name=op.f('ck_certificate_credited_minutes_not_negative')),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_certificate_registration_id_registration')),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_certificate_series_id_series')),
    sa.ForeignKeyConstraint(['webinar_id'], ['webinar.id'], name=op.f('fk_certificate_webinar_id_webinar')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('code', name=op.f('uq_certificate_code')),
    sa.UniqueConstraint('registration_id', name=op.f('uq_certificate_registration_id'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_webinar_id'), ['webinar_id'], unique=False)
        batch_op.create_index('uq_certificate_series_person', ['series_id', 'email_normalised'], unique=True, sqlite_where=sa.text("kind = 'series'"), postgresql_where=sa.text("kind = 'series'"))

    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_min_webinars', sa.Integer(), nullable=True))

    with op.batch_alter_table('webinar', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('materials_public', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Recordings already on public pages stay there.
    op.execute("UPDATE webinar SET materials_public = true WHERE recording_url IS NOT NULL")



def downgrade():
    with op.batch_alter_table('webinar', schema=None) as batch_op:
        batch_op.drop_column('materials_public')
        batch_op.drop_column('certificate_minutes')

    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_column('certificate_min_webinars')

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('uq_certificate_series_person', sqlite_where=sa.text("kind = 'series'"), postgresql_where=sa.text("kind = 'series'"))
        batch_op.drop_index(batch_op.f('ix_certificate_webinar_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_series_id'))

    op.drop_table('certificate')
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_material_webinar_id'))

    op.drop_table('material')
