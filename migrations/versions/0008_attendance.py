"""attendance from the platform's report

Minutes attended per registration and who decided ``attended`` (a hand tick
or a report), the webinar's attendance threshold and "attendance is final"
marker, and two tables for an import's receipt and the people it could not
match by email. Registrations already marked attended were ticked by hand
(the check-in page was the only way), so they carry over as ``hand``.

Revision ID: 0008_attendance
Revises: 0012_questions
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_attendance"
down_revision = "0012_questions"
branch_labels = None
depends_on = None


def _day_index():
    op.create_index("ix_registration_created_day", "registration", [sa.text("date(created_at)"), "created_at"],
                    unique=False)


def upgrade():
    with op.batch_alter_table("webinar") as batch:
        batch.add_column(sa.Column("attendance_threshold_minutes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("attendance_final_at", sa.DateTime(), nullable=True))
        batch.create_check_constraint(
            "attendance_threshold_not_negative",
            "attendance_threshold_minutes IS NULL OR attendance_threshold_minutes >= 0",
        )
    # SQLite rebuilds the table for the CHECK and cannot carry an expression index across.
    op.drop_index("ix_registration_created_day", table_name="registration")
    with op.batch_alter_table("registration") as batch:
        batch.add_column(sa.Column("minutes_attended", sa.Integer(), nullable=True))
        batch.add_column(sa.Column(
            "attendance_source",
            sa.Enum("hand", "report", name="attendance_source", native_enum=False, create_constraint=True,
                    length=32),
            nullable=True,
        ))
    _day_index()
    op.execute("UPDATE registration SET attendance_source = 'hand' WHERE attended")

    op.create_table(
        "attendance_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webinar_id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("report_format", sa.Enum("zoom_meeting", "zoom_webinar", "teams_tsv", "teams_csv", "webex",
                                           "plain", name="report_format", native_enum=False,
                                           create_constraint=True, length=32), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("people_matched", sa.Integer(), nullable=False),
        sa.Column("people_unmatched", sa.Integer(), nullable=False),
        sa.Column("overruled_hand", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organiser_id"], ["organiser.id"], ondelete="SET NULL",
                                name=op.f("fk_attendance_import_organiser_id_organiser")),
        sa.ForeignKeyConstraint(["webinar_id"], ["webinar.id"], ondelete="CASCADE",
                                name=op.f("fk_attendance_import_webinar_id_webinar")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_import")),
    )
    op.create_index("ix_attendance_import_webinar_id", "attendance_import", ["webinar_id"], unique=False)
    op.create_table(
        "unmatched_attendee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("webinar_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("suggested_registration_id", sa.Integer(), nullable=True),
        sa.Column("suggestion_score", sa.Integer(), nullable=False),
        sa.Column("resolution", sa.Enum("open", "confirmed", "left", name="unmatched_resolution",
                                        native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["import_id"], ["attendance_import.id"], ondelete="CASCADE",
                                name=op.f("fk_unmatched_attendee_import_id_attendance_import")),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"], ondelete="SET NULL",
                                name=op.f("fk_unmatched_attendee_registration_id_registration")),
        sa.ForeignKeyConstraint(["suggested_registration_id"], ["registration.id"], ondelete="SET NULL",
                                name=op.f("fk_unmatched_attendee_suggested_registration_id_registration")),
        sa.ForeignKeyConstraint(["webinar_id"], ["webinar.id"], ondelete="CASCADE",
                                name=op.f("fk_unmatched_attendee_webinar_id_webinar")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_attendee")),
    )
    op.create_index("ix_unmatched_attendee_import_id", "unmatched_attendee", ["import_id"], unique=False)
    op.create_index("ix_unmatched_attendee_webinar_resolution", "unmatched_attendee", ["webinar_id", "resolution"],
                    unique=False)


def downgrade():
    op.drop_index("ix_unmatched_attendee_webinar_resolution", table_name="unmatched_attendee")
    op.drop_index("ix_unmatched_attendee_import_id", table_name="unmatched_attendee")
    op.drop_table("unmatched_attendee")
    op.drop_index("ix_attendance_import_webinar_id", table_name="attendance_import")
    op.drop_table("attendance_import")
    op.drop_index("ix_registration_created_day", table_name="registration")
    with op.batch_alter_table("registration") as batch:
        batch.drop_constraint(op.f("ck_registration_attendance_source"), type_="check")
        batch.drop_column("attendance_source")
        batch.drop_column("minutes_attended")
    _day_index()
    with op.batch_alter_table("webinar") as batch:
        batch.drop_constraint(op.f("ck_webinar_attendance_threshold_not_negative"), type_="check")
        batch.drop_column("attendance_final_at")
        batch.drop_column("attendance_threshold_minutes")
