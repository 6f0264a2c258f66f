"""questions: the organisers' own registration questions and their answers; questions for the panel

Questions belong to a series (asked on every webinar's form) or to one
webinar; answers keep the question's wording as it was when answered.
``questions_version`` on series and webinar lets a form with no questions
skip the look-up (0 = none); existing rows start at 0.

Revision ID: 0012_questions
Revises: 0011_audiences
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_questions"
down_revision = "0011_audiences"
branch_labels = None
depends_on = None

KINDS = ("short_text", "long_text", "one_choice", "several_choices", "yes_no", "number", "date")


def upgrade():
    for table in ("series", "webinar"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("questions_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("webinar_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.Enum(*KINDS, name="question_kind", native_enum=False, create_constraint=True,
                                  length=32), nullable=False),
        sa.Column("label_en", sa.String(length=500), nullable=False),
        sa.Column("label_fr", sa.String(length=500), nullable=False),
        sa.Column("help_en", sa.Text(), nullable=False),
        sa.Column("help_fr", sa.Text(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("condition_question_id", sa.Integer(), nullable=True),
        sa.Column("condition_value", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("archived_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], name=op.f("fk_question_series_id_series"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["webinar_id"], ["webinar.id"], name=op.f("fk_question_webinar_id_webinar"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["condition_question_id"], ["question.id"],
                                name=op.f("fk_question_condition_question_id_question"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
    )
    with op.batch_alter_table("question") as batch:
        batch.create_index("ix_question_series_position", ["series_id", "position"], unique=False)
        batch.create_index("ix_question_webinar_id", ["webinar_id"], unique=False)
    op.create_table(
        "answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("question_label", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"],
                                name=op.f("fk_answer_registration_id_registration"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"], name=op.f("fk_answer_question_id_question")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer")),
    )
    with op.batch_alter_table("answer") as batch:
        batch.create_index("uq_answer_registration_question", ["registration_id", "question_id"], unique=True)
        batch.create_index("ix_answer_question_id", ["question_id"], unique=False)


    op.create_table(
        "panel_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webinar_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("presentation_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("share_name", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Enum("new", "approved", "hidden", "merged", "answered", name="panel_question_status",
                                    native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column("starred", sa.Boolean(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["webinar_id"], ["webinar.id"], name=op.f("fk_panel_question_webinar_id_webinar"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"],
                                name=op.f("fk_panel_question_registration_id_registration"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["presentation_id"], ["presentation.id"],
                                name=op.f("fk_panel_question_presentation_id_presentation"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["merged_into_id"], ["panel_question.id"],
                                name=op.f("fk_panel_question_merged_into_id_panel_question"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_question")),
    )
    with op.batch_alter_table("panel_question") as batch:
        batch.create_index("ix_panel_question_webinar_status", ["webinar_id", "status"], unique=False)
        batch.create_index("ix_panel_question_registration_id", ["registration_id"], unique=False)


def downgrade():
    op.drop_table("panel_question")
    op.drop_table("answer")
    op.drop_table("question")
    for table in ("webinar", "series"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("questions_version")
