"""job queue: the `job_queue` table (the embedded SQLite runner's jobs) and, on PostgreSQL,
procrastinate's schema, read from the installed procrastinate package

Revision ID: 0005
Revises: 0004

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TODO = sa.text("status = 'todo'")


def upgrade() -> None:
    op.create_table(
        "job_queue",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "args",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lock", sa.String(length=255), nullable=True),
        sa.Column("queueing_lock", sa.String(length=255), nullable=True),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("job_queue", schema=None) as batch_op:
        batch_op.create_index("job_queue_lock_status_index", ["lock", "status"], unique=False)
        batch_op.create_index(
            "job_queue_queueing_lock_todo_index",
            ["queueing_lock"],
            unique=True,
            sqlite_where=_TODO,
            postgresql_where=_TODO,
        )
        batch_op.create_index("job_queue_status_run_at_index", ["status", "run_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # The schema of the procrastinate version installed now (pinned in requirements.lock);
        # a later procrastinate release brings its own migrations, applied in a revision of ours.
        from procrastinate.schema import SchemaManager

        # Straight to the driver as one script; SQLAlchemy hands psycopg an empty parameter
        # list, so psycopg reads '%' as a placeholder: doubled, as procrastinate does.
        op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,"
            " procrastinate_jobs, procrastinate_workers CASCADE"
        )
        op.execute(
            """
            DO $$
            DECLARE f record;
            BEGIN
                FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                         JOIN pg_namespace n ON n.oid = p.pronamespace
                         WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
                LOOP
                    EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE';
                END LOOP;
            END $$
            """
        )
        op.execute(
            "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,"
            " procrastinate_job_status CASCADE"
        )
    with op.batch_alter_table("job_queue", schema=None) as batch_op:
        batch_op.drop_index("job_queue_status_run_at_index")
        batch_op.drop_index(
            "job_queue_queueing_lock_todo_index", sqlite_where=_TODO, postgresql_where=_TODO
        )
        batch_op.drop_index("job_queue_lock_status_index")

    op.drop_table("job_queue")
