"""saved searches: the chat screen's saved searches (Glific's `saved_searches`), one set per
organization; the reserved ones are seeded when an organization first lists them

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_searches",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("shortcode", sa.String(length=255), nullable=False),
        sa.Column(
            "args",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_reserved", sa.Boolean(), nullable=False),
        sa.Column(
            "inserted_at", sa.DateTime().with_variant(sa.DateTime(), "sqlite"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime().with_variant(sa.DateTime(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "shortcode", "organization_id", name="saved_searches_shortcode_organization_id_index"
        ),
        sqlite_autoincrement=True,
    )
    _seed_reserved()


# Glific's reserved saved searches, as resolvers.searches seeds them for a new organization
# (copied here: a migration must not change when the application code does).
_RESERVED = (
    ("All conversations", "All"),
    ("All unread conversations", "Unread"),
    ("Conversations read but not replied", "Not replied"),
    ("Conversations read but not responded", "Not Responded"),
    ("Conversations where the contact has opted in", "Optin"),
    ("Conversations where the contact has opted out", "Optout"),
)


def _args(shortcode: str) -> dict[str, Any]:
    if shortcode == "All":
        return {"filter": {}, "contactOpts": {"limit": 25}, "messageOpts": {"limit": 20}}
    return {
        "filter": {"status": shortcode, "term": ""},
        "contactOpts": {"limit": 25, "offset": 0},
        "messageOpts": {"limit": 20, "offset": 0},
    }


def _seed_reserved() -> None:
    """The organizations that existed before this migration get the reserved searches."""
    bind = op.get_bind()
    org_ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM organizations"))]
    if not org_ids:
        return
    table = sa.table(
        "saved_searches",
        sa.column("organization_id", sa.BigInteger()),
        sa.column("label", sa.String()),
        sa.column("shortcode", sa.String()),
        sa.column("args", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.column("is_reserved", sa.Boolean()),
        sa.column("inserted_at", sa.DateTime()),
        sa.column("updated_at", sa.DateTime()),
    )
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    op.bulk_insert(
        table,
        [
            {
                "organization_id": org_id,
                "label": label,
                "shortcode": shortcode,
                "args": _args(shortcode),
                "is_reserved": True,
                "inserted_at": now,
                "updated_at": now,
            }
            for org_id in org_ids
            for label, shortcode in _RESERVED
        ],
    )


def downgrade() -> None:
    op.drop_table("saved_searches")
