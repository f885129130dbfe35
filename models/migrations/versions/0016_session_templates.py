"""session_templates, and messages.template_id / messages.params: message templates and
the HSM messages sent from them (Glific's templates, sendHsmMessage)

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "session_templates",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("shortcode", sa.String(length=255), nullable=True),
        sa.Column("language_id", _ID, nullable=False),
        sa.Column("is_hsm", sa.Boolean(), nullable=False),
        sa.Column("number_parameters", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_reserved", sa.Boolean(), nullable=False),
        sa.Column("is_source", sa.Boolean(), nullable=False),
        sa.Column("uuid", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("example", sa.Text(), nullable=True),
        sa.Column("translations", _JSON, nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["language_id"], ["languages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("label", "language_id", "organization_id"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_session_templates_organization_id", "session_templates", ["organization_id"]
    )
    # (Plain ADD COLUMNs on both databases: the table is not copied.)
    op.add_column("messages", sa.Column("template_id", sa.Integer(), nullable=True))
    op.add_column("messages", sa.Column("params", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("params")
        batch.drop_column("template_id")
    op.drop_index("ix_session_templates_organization_id", table_name="session_templates")
    op.drop_table("session_templates")
