"""profiles: one index for a contact's profiles in menu order

A page of contacts reads all their profiles in one query ordered by contact, then default
first, then id; this index returns them in that order without a sort, and replaces the
plain index on contact_id.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "profiles_contact_id_menu_order_index",
        "profiles",
        ["contact_id", sa.text("is_default DESC"), "id"],
    )
    op.drop_index("ix_profiles_contact_id", table_name="profiles")


def downgrade() -> None:
    op.create_index("ix_profiles_contact_id", "profiles", ["contact_id"])
    op.drop_index("profiles_contact_id_menu_order_index", table_name="profiles")
