"""registrations: regions stored as the form's codes; a folded column for search

Regions. The registration form stores a code ("QC", "outside"), but the demo
stored names ("Quebec"), so the dashboard counted "Quebec" and "QC" apart and
the CSV mixed both. Every region written as a province's or territory's
English or French name (any case, with or without accents, hyphens or extra
spaces) or as a code in another case becomes the form's code; anything else
(a country typed by an older version) is left as it is. Downgrading keeps the
codes: they are what the form writes anyway.

Search. ``registration.search_text`` holds the name, email and organisation
folded (no accents, case-folded), so "Quebec" finds "Québec" with a plain LIKE
that behaves the same on SQLite and PostgreSQL. Existing rows are filled here,
in batches, with the same folding as ``portal.search.folded`` (copied: a
migration must not change when the application does).

Revision ID: 0007_region_codes
Revises: 0006_bilingual_content (chained here so the merged branches have one head)
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0007_region_codes"
down_revision = "0006_bilingual_content"
branch_labels = None
depends_on = None

BATCH = 1000

#: code → names it may have been stored as (English and French, as in the catalogue).
REGION_NAMES = {
    "AB": ("Alberta",),
    "BC": ("British Columbia", "Colombie-Britannique"),
    "MB": ("Manitoba",),
    "NB": ("New Brunswick", "Nouveau-Brunswick"),
    "NL": ("Newfoundland and Labrador", "Newfoundland", "Terre-Neuve-et-Labrador"),
    "NS": ("Nova Scotia", "Nouvelle-Écosse"),
    "NT": ("Northwest Territories", "Territoires du Nord-Ouest"),
    "NU": ("Nunavut",),
    "ON": ("Ontario",),
    "PE": ("Prince Edward Island", "Île-du-Prince-Édouard"),
    "QC": ("Quebec", "Québec"),
    "SK": ("Saskatchewan",),
    "YT": ("Yukon",),
    "outside": ("Outside Canada", "À l’extérieur du Canada", "À l'extérieur du Canada", "Hors du Canada"),
}


def folded(text):
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFKC", bare).split())


def region_key(text):
    """Names compared without accents, case, hyphens, apostrophes or spacing."""
    return "".join(c for c in folded(text) if c.isalnum())


def region_codes():
    codes = {}
    for code, names in REGION_NAMES.items():
        for name in (code, *names):
            codes[region_key(name)] = code
    return codes


def upgrade():
    with op.batch_alter_table("registration") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))

    connection = op.get_bind()
    registration = sa.table(
        "registration", sa.column("id", sa.Integer), sa.column("region", sa.String),
        sa.column("full_name", sa.String), sa.column("email", sa.String),
        sa.column("organisation_name", sa.String), sa.column("search_text", sa.Text),
    )
    _convert_regions(connection, registration)
    _fill_search_text(connection, registration)


def _convert_regions(connection, registration):
    codes = region_codes()
    stored = connection.execute(sa.select(registration.c.region).distinct()
                                .where(registration.c.region.is_not(None))).scalars().all()
    for value in stored:
        code = codes.get(region_key(value))
        if code is not None and code != value:
            connection.execute(registration.update().where(registration.c.region == value).values(region=code))


def _fill_search_text(connection, registration):
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(registration.c.id, registration.c.full_name, registration.c.email,
                      registration.c.organisation_name)
            .where(registration.c.id > last_id).order_by(registration.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        updates = [
            {"row_id": row.id,
             "text": " ".join(f for f in (folded(row.full_name), folded(row.email), folded(row.organisation_name))
                              if f) or None}
            for row in rows
        ]
        connection.execute(
            registration.update().where(registration.c.id == sa.bindparam("row_id"))
            .values(search_text=sa.bindparam("text")),
            updates,
        )
        last_id = rows[-1].id


def downgrade():
    with op.batch_alter_table("registration") as batch:
        batch.drop_column("search_text")
