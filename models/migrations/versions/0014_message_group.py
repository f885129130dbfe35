"""messages.group_id: the collection a message was sent to as a whole (Glific's group sends)

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SOME = sa.text("group_id IS NOT NULL")


def upgrade() -> None:
    # (A plain ADD COLUMN on both databases: the table is not copied, however many
    # messages it holds.)
    op.add_column("messages", sa.Column("group_id", sa.Integer(), nullable=True))
    op.create_index(
        "messages_group_id_index",
        "messages",
        ["group_id"],
        sqlite_where=_SOME,
        postgresql_where=_SOME,
    )


def downgrade() -> None:
    op.drop_index("messages_group_id_index", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("group_id")
