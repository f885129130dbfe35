"""WhatsApp groups through Maytapi: wa_managed_phones, wa_groups, contacts_wa_groups,
wa_groups_collections, wa_messages and wa_group_flow_runs (models/wa_group.py)

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "wa_managed_phones",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("phone_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("contact_id", _ID, nullable=True),
        sa.Column("last_status_checked_at", sa.DateTime(), nullable=True),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "phone_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "wa_groups",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("bsp_id", sa.String(length=255), nullable=False),
        sa.Column("wa_managed_phone_id", _ID, nullable=False),
        sa.Column("last_communication_at", sa.DateTime(), nullable=True),
        sa.Column("is_org_read", sa.Boolean(), nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["wa_managed_phone_id"], ["wa_managed_phones.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "bsp_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_wa_groups_wa_managed_phone_id", "wa_groups", ["wa_managed_phone_id"])

    op.create_table(
        "contacts_wa_groups",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("wa_group_id", _ID, nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wa_group_id"], ["wa_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id", "wa_group_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_contacts_wa_groups_wa_group_id", "contacts_wa_groups", ["wa_group_id"])

    op.create_table(
        "wa_group_flow_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("wa_group_id", _ID, nullable=False),
        sa.Column("flow_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("session", _JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wa_group_id"], ["wa_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_wa_group_flow_runs_flow_id", "wa_group_flow_runs", ["flow_id"])
    op.create_index(
        "wa_group_flow_runs_wa_group_id_status_index",
        "wa_group_flow_runs",
        ["wa_group_id", "status"],
    )

    op.create_table(
        "wa_groups_collections",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("wa_group_id", _ID, nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wa_group_id"], ["wa_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "wa_group_id"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_wa_groups_collections_wa_group_id", "wa_groups_collections", ["wa_group_id"]
    )

    op.create_table(
        "wa_messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=True),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("wa_managed_phone_id", _ID, nullable=True),
        sa.Column("wa_group_id", _ID, nullable=True),
        sa.Column("flow_id", _ID, nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("flow", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("bsp_status", sa.String(length=32), nullable=True),
        sa.Column("bsp_id", sa.String(length=255), nullable=True),
        sa.Column("errors", _JSON, nullable=False),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("is_dm", sa.Boolean(), nullable=False),
        sa.Column("flow_label", sa.String(length=255), nullable=True),
        sa.Column("context_id", sa.String(length=255), nullable=True),
        sa.Column("message_number", sa.Integer(), nullable=False),
        sa.Column("send_attempts", sa.Integer(), nullable=False),
        sa.Column("send_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["wa_group_id"], ["wa_groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["wa_managed_phone_id"], ["wa_managed_phones.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bsp_id", "organization_id", name="wa_messages_bsp_id_org_index"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_wa_messages_organization_id", "wa_messages", ["organization_id"])
    op.create_index("wa_messages_wa_group_id_id_index", "wa_messages", ["wa_group_id", "id"])


def downgrade() -> None:
    op.drop_index("wa_messages_wa_group_id_id_index", table_name="wa_messages")
    op.drop_index("ix_wa_messages_organization_id", table_name="wa_messages")

    op.drop_table("wa_messages")
    op.drop_index("ix_wa_groups_collections_wa_group_id", table_name="wa_groups_collections")

    op.drop_table("wa_groups_collections")
    op.drop_index("wa_group_flow_runs_wa_group_id_status_index", table_name="wa_group_flow_runs")
    op.drop_index("ix_wa_group_flow_runs_flow_id", table_name="wa_group_flow_runs")

    op.drop_table("wa_group_flow_runs")
    op.drop_index("ix_contacts_wa_groups_wa_group_id", table_name="contacts_wa_groups")

    op.drop_table("contacts_wa_groups")
    op.drop_index("ix_wa_groups_wa_managed_phone_id", table_name="wa_groups")

    op.drop_table("wa_groups")
    op.drop_table("wa_managed_phones")
