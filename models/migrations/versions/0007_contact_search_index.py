"""contact search index: substring search on contacts' name and phone from an index, and
counting an organization's contacts without reading them all

SQLite: `contacts_search`, an FTS5 table with the trigram tokenizer whose content is the
contacts table (name, phone; rowid = contacts.id), kept in step by triggers on every insert,
delete and change of name or phone, whatever code path writes the row. PostgreSQL: pg_trgm
GIN indexes on name and phone, which serve the `ILIKE '%x%'` filters as they are written.

The lists' order index (organization_id, lower(name), id) gains `status`: a deep offset
skips rows in the index alone.

countContacts without a filter: on SQLite `contact_counts` holds the number of contacts per
organization and status, kept by triggers too (SQLite has one writer, so the counter rows
cost no concurrency); on PostgreSQL, where they would make every writer of an organization's
contacts wait for the others, it counts the narrow index on (organization_id, status).

The search index and the counts are not declared by the models (models.migrate.include_name
leaves them out of the schema comparison).

A later migration that rebuilds the contacts table on SQLite (Alembic's batch mode: copy,
drop, rename) drops these triggers with the old table: it must create them again
(`create_sqlite_triggers`, `create_sqlite_count_triggers`) and rebuild the index and the
counts.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_TABLE = "contacts_search"
TRIGGERS = ("contacts_search_insert", "contacts_search_delete", "contacts_search_update")
TRIGRAM_INDEXES = {
    "contacts_name_trigram_index": "name",
    "contacts_phone_trigram_index": "phone",
}
COUNT_INDEX = "contacts_organization_id_status_index"
LIST_INDEX = "contacts_organization_id_lower_name_index"
COUNTS_TABLE = "contact_counts"
COUNT_TRIGGERS = ("contact_counts_insert", "contact_counts_delete", "contact_counts_update")

_ADD = f"INSERT INTO {SEARCH_TABLE}(rowid, name, phone) VALUES (new.id, new.name, new.phone);"
# An external-content FTS5 table forgets a row only when told the values it indexed.
_REMOVE = (
    f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rowid, name, phone)"
    " VALUES ('delete', old.id, old.name, old.phone);"
)


def create_sqlite_triggers() -> None:
    op.execute(f"CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT ON contacts BEGIN {_ADD} END")
    op.execute(f"CREATE TRIGGER {TRIGGERS[1]} AFTER DELETE ON contacts BEGIN {_REMOVE} END")
    op.execute(
        f"CREATE TRIGGER {TRIGGERS[2]} AFTER UPDATE OF id, name, phone ON contacts"
        f" BEGIN {_REMOVE} {_ADD} END"
    )


_COUNT_NEW = (
    f"INSERT INTO {COUNTS_TABLE} (organization_id, status, contacts)"
    " VALUES (new.organization_id, new.status, 1)"
    " ON CONFLICT (organization_id, status) DO UPDATE SET contacts = contacts + 1;"
)
_UNCOUNT_OLD = (
    f"UPDATE {COUNTS_TABLE} SET contacts = contacts - 1"
    " WHERE organization_id = old.organization_id AND status = old.status;"
)


def create_sqlite_count_triggers() -> None:
    op.execute(
        f"CREATE TRIGGER {COUNT_TRIGGERS[0]} AFTER INSERT ON contacts BEGIN {_COUNT_NEW} END"
    )
    op.execute(
        f"CREATE TRIGGER {COUNT_TRIGGERS[1]} AFTER DELETE ON contacts BEGIN {_UNCOUNT_OLD} END"
    )
    op.execute(
        f"CREATE TRIGGER {COUNT_TRIGGERS[2]} AFTER UPDATE OF organization_id, status ON contacts"
        f" BEGIN {_UNCOUNT_OLD} {_COUNT_NEW} END"
    )


def _list_index(*columns: str) -> None:
    op.drop_index(LIST_INDEX, table_name="contacts")
    op.create_index(
        LIST_INDEX, "contacts", ["organization_id", sa.text("lower(name)"), "id", *columns]
    )


def upgrade() -> None:
    op.create_index(COUNT_INDEX, "contacts", ["organization_id", "status"], unique=False)
    # The lists' order index also carries the status every list filters on, so the rows a
    # deep offset skips are skipped in the index, without reading the table.
    _list_index("status")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(name, phone,"
            " content='contacts', content_rowid='id', tokenize='trigram')"
        )
        op.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('rebuild')")
        create_sqlite_triggers()
        op.execute(
            f"CREATE TABLE {COUNTS_TABLE} (organization_id INTEGER NOT NULL,"
            " status VARCHAR(32) NOT NULL, contacts INTEGER NOT NULL,"
            " PRIMARY KEY (organization_id, status)) WITHOUT ROWID"
        )
        op.execute(
            f"INSERT INTO {COUNTS_TABLE} (organization_id, status, contacts)"
            " SELECT organization_id, status, count(*) FROM contacts"
            " GROUP BY organization_id, status"
        )
        create_sqlite_count_triggers()
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in TRIGRAM_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON contacts USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in TRIGGERS + COUNT_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
        op.execute(f"DROP TABLE IF EXISTS {COUNTS_TABLE}")
    else:
        # The extension stays: other schemas or tables may use it.
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index(COUNT_INDEX, table_name="contacts")
    _list_index()
