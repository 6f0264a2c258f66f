"""registrations: a confirmed-seat counter on the webinar, kept by the database

The seat rule read every confirmed registration of a webinar under the lock, so a
registration got slower as the webinar filled (about 1.3 k rows read per POST at
the start, 5 k at 3 000 registrations). ``webinar.confirmed_count`` is kept equal to
the number of confirmed registrations by triggers on ``registration`` (insert,
delete, and updates of ``status`` or ``webinar_id``), whatever code path changes a
status: registering, cancelling, promoting, an organiser's action, a future one.
The seat rule reads it with the row lock it already takes.

SQLite drops a table's triggers when a migration rebuilds the table (batch mode):
a migration that rebuilds ``registration`` must call ``create_triggers`` again
(tests/test_seat_counter.py fails if the counter stops following the rows).

Revision ID: 0014_seat_counter
Revises: 0013_content_version
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_seat_counter"
down_revision = "0013_content_version"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER registration_confirmed_insert AFTER INSERT ON registration
       WHEN NEW.status = 'confirmed'
       BEGIN UPDATE webinar SET confirmed_count = confirmed_count + 1 WHERE id = NEW.webinar_id; END""",
    """CREATE TRIGGER registration_confirmed_delete AFTER DELETE ON registration
       WHEN OLD.status = 'confirmed'
       BEGIN UPDATE webinar SET confirmed_count = confirmed_count - 1 WHERE id = OLD.webinar_id; END""",
    """CREATE TRIGGER registration_confirmed_update AFTER UPDATE OF status, webinar_id ON registration
       WHEN OLD.status IS NOT NEW.status OR OLD.webinar_id IS NOT NEW.webinar_id
       BEGIN
         UPDATE webinar SET confirmed_count = confirmed_count - 1
          WHERE id = OLD.webinar_id AND OLD.status = 'confirmed';
         UPDATE webinar SET confirmed_count = confirmed_count + 1
          WHERE id = NEW.webinar_id AND NEW.status = 'confirmed';
       END""",
]

POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION registration_confirmed_count() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP <> 'INSERT' AND OLD.status = 'confirmed' THEN
           UPDATE webinar SET confirmed_count = confirmed_count - 1 WHERE id = OLD.webinar_id;
         END IF;
         IF TG_OP <> 'DELETE' AND NEW.status = 'confirmed' THEN
           UPDATE webinar SET confirmed_count = confirmed_count + 1 WHERE id = NEW.webinar_id;
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER registration_confirmed_insert_delete AFTER INSERT OR DELETE ON registration
       FOR EACH ROW EXECUTE FUNCTION registration_confirmed_count()""",
    """CREATE TRIGGER registration_confirmed_update AFTER UPDATE OF status, webinar_id ON registration
       FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.webinar_id IS DISTINCT FROM NEW.webinar_id)
       EXECUTE FUNCTION registration_confirmed_count()""",
]


def create_triggers():
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def upgrade():
    with op.batch_alter_table("webinar") as batch:
        batch.add_column(sa.Column("confirmed_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE webinar SET confirmed_count = (SELECT count(*) FROM registration "
               "WHERE registration.webinar_id = webinar.id AND registration.status = 'confirmed')")
    create_triggers()


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER registration_confirmed_{name}")
    else:
        op.execute("DROP TRIGGER registration_confirmed_insert_delete ON registration")
        op.execute("DROP TRIGGER registration_confirmed_update ON registration")
        op.execute("DROP FUNCTION registration_confirmed_count()")
    with op.batch_alter_table("webinar") as batch:
        batch.drop_column("confirmed_count")
