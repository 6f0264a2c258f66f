"""bilingual content: a French column beside every text an organiser writes

Each translatable text keeps its column, which now holds the English
(``webinar.title`` and so on: existing rows are not rewritten, so the English
is carried over untouched), and gains a ``<column>_fr`` column for the French,
empty (NULL) until someone writes it. Adding nullable columns needs no table
rebuild on SQLite nor a rewrite on PostgreSQL.

Revision ID: 0006_bilingual_content
Revises: 0004_outbox_calendar_language
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_bilingual_content"
down_revision = "0005_organiser_sessions"
branch_labels = None
depends_on = None

#: table -> (French column, type) pairs
FRENCH_COLUMNS = {
    "organisation": [("name_fr", sa.String(200)), ("acronym_fr", sa.String(40))],
    "series": [("title_fr", sa.String(300)), ("subtitle_fr", sa.String(300)),
               ("summary_fr", sa.Text()), ("closing_remarks_fr", sa.Text())],
    "objective": [("text_fr", sa.Text())],
    "key_theme": [("heading_fr", sa.Text())],
    "theme_point": [("text_fr", sa.Text())],
    "webinar": [("title_fr", sa.String(300)), ("description_fr", sa.Text()),
                ("highlights_fr", sa.Text()), ("cancellation_message_fr", sa.Text())],
    "presentation": [("title_fr", sa.String(500)), ("abstract_fr", sa.Text())],
    "presenter": [("honorific_fr", sa.String(100)), ("bio_fr", sa.Text())],
    "presenter_role": [("title_fr", sa.String(300)), ("unit_fr", sa.String(300))],
    "webinar_message": [("subject_fr", sa.String(300)), ("body_fr", sa.Text())],
}


def upgrade():
    for table, columns in FRENCH_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, type_ in columns:
                batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade():
    for table, columns in FRENCH_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _type in reversed(columns):
                batch.drop_column(name)
