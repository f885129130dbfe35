"""conversation list index: contacts by organization, newest communication first, so the
chat screen's `search` reads its first page (and each keyset page) from an index instead of
sorting every contact

Dialect-specific (PostgreSQL puts NULLs first in a descending order unless told; SQLite puts
them last and refuses NULLS LAST in an index), so the models do not declare it
(`models.contact.CONVERSATION_INDEX`, left out of the model comparison).

Revision ID: 0009
Revises: 0008

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "contacts_organization_id_last_communication_index"


def upgrade() -> None:
    nulls = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(
        f"CREATE INDEX {INDEX} ON contacts"
        f" (organization_id, last_communication_at DESC{nulls}, id DESC)"
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX {INDEX}")
