"""whatsapp providers, message delivery: the organizations' provider accounts, and the
outbox's delivery columns on messages

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_providers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("app_key", sa.String(length=255), nullable=False),
        sa.Column(
            "credentials",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "allowed_sources",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("sends_replies", sa.Boolean(), nullable=False),
        sa.Column("rate_limit", sa.Integer(), nullable=False),
        sa.Column(
            "inserted_at", sa.DateTime().with_variant(sa.DateTime(), "sqlite"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime().with_variant(sa.DateTime(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "organization_id", "provider", name="whatsapp_providers_organization_id_provider_index"
        ),
        sa.UniqueConstraint(
            "provider", "app_key", name="whatsapp_providers_provider_app_key_index"
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "delivered_at", sa.DateTime().with_variant(sa.DateTime(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("read_at", sa.DateTime().with_variant(sa.DateTime(), "sqlite"), nullable=True)
        )
        batch_op.add_column(
            sa.Column("send_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            "messages_contact_id_status_id_index", ["contact_id", "status", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("messages_contact_id_status_id_index")
        batch_op.drop_column("send_attempts")
        batch_op.drop_column("read_at")
        batch_op.drop_column("delivered_at")

    op.drop_table("whatsapp_providers")
