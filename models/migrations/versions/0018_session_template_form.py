"""session_templates.footer, has_buttons, button_type, buttons, tag_id: what Glific's
template form keeps besides the body

Revision ID: 0018
Revises: 0017
"""

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # SQLite rebuilds the table to add the foreign key (batch mode); reflecting the database
    # for it, SQLAlchemy says it skips the expression indexes of other tables, which the
    # rebuild does not touch.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        _add_columns()


def _add_columns() -> None:
    with op.batch_alter_table("session_templates") as batch:
        batch.add_column(sa.Column("footer", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("has_buttons", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("button_type", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("buttons", _JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("tag_id", _ID, nullable=True))
        batch.create_foreign_key(
            "fk_session_templates_tag_id_tags", "tags", ["tag_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_session_templates_tag_id", ["tag_id"])


def downgrade() -> None:
    with op.batch_alter_table("session_templates") as batch:
        batch.drop_index("ix_session_templates_tag_id")
        batch.drop_constraint("fk_session_templates_tag_id_tags", type_="foreignkey")
        for column in ("tag_id", "buttons", "button_type", "has_buttons", "footer"):
            batch.drop_column(column)
