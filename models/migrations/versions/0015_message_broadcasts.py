"""message_broadcasts, message_broadcast_contacts and messages.message_broadcast_id: a send
to a whole collection and each member's part in it (Glific's broadcasts, broadcastStats)

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_SOME = sa.text("message_broadcast_id IS NOT NULL")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "message_broadcasts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("flow_id", _ID, nullable=True),
        sa.Column("message_id", _ID, nullable=True),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("default_results", _JSON, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    for name in ("organization_id", "group_id", "flow_id"):
        op.create_index(f"ix_message_broadcasts_{name}", "message_broadcasts", [name])
    op.create_table(
        "message_broadcast_contacts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("message_broadcast_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["message_broadcast_id"], ["message_broadcasts.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_broadcast_id", "contact_id"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_message_broadcast_contacts_contact_id", "message_broadcast_contacts", ["contact_id"]
    )
    # (A plain ADD COLUMN on both databases: the table is not copied.)
    op.add_column("messages", sa.Column("message_broadcast_id", sa.Integer(), nullable=True))
    op.create_index(
        "messages_message_broadcast_id_index",
        "messages",
        ["message_broadcast_id"],
        sqlite_where=_SOME,
        postgresql_where=_SOME,
    )


def downgrade() -> None:
    op.drop_index("messages_message_broadcast_id_index", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("message_broadcast_id")
    op.drop_table("message_broadcast_contacts")
    op.drop_table("message_broadcasts")
