"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 20:34:58.633089
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # organizations.contact_id and contacts.active_profile_id close reference cycles; their
    # foreign keys are added once both ends exist (batch mode rebuilds the table on SQLite).
    # Expression indexes are written by hand: autogenerate cannot compare them on SQLite.
    op.create_table(
        "languages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("label_locale", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_reserved", sa.Boolean(), nullable=False),
        sa.Column("localized", sa.Boolean(), nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("label", "locale", name="languages_label_locale_index"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "organizations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("shortcode", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_approved", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "default_language_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("is_contact_profile_enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["default_language_id"], ["languages.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shortcode"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organizations_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_organizations_default_language_id"),
            ["default_language_id"],
            unique=False,
        )

    op.create_table(
        "access_roles",
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
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("is_reserved", sa.Boolean(), nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("label", "organization_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("access_roles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_roles_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "contacts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=255), nullable=False),
        sa.Column("contact_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("bsp_status", sa.String(length=32), nullable=False),
        sa.Column(
            "language_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "active_profile_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("is_org_read", sa.Boolean(), nullable=False),
        sa.Column("is_org_replied", sa.Boolean(), nullable=False),
        sa.Column("is_contact_replied", sa.Boolean(), nullable=False),
        sa.Column("optin_time", sa.DateTime(), nullable=True),
        sa.Column("optout_time", sa.DateTime(), nullable=True),
        sa.Column("optin_status", sa.Boolean(), nullable=False),
        sa.Column("optin_method", sa.String(length=255), nullable=True),
        sa.Column("optout_method", sa.String(length=255), nullable=True),
        sa.Column("last_message_at", sa.DateTime(), nullable=True),
        sa.Column("last_communication_at", sa.DateTime(), nullable=True),
        sa.Column("first_message_number", sa.Integer(), nullable=False),
        sa.Column("last_message_number", sa.Integer(), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["language_id"], ["languages.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "phone", "organization_id", name="contacts_phone_organization_id_index"
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_active_profile_id"), ["active_profile_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_language_id"), ["language_id"], unique=False)

    op.create_table(
        "contacts_fields",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("shortcode", sa.String(length=255), nullable=False),
        sa.Column("value_type", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "organization_id", "scope", name="contacts_fields_name_index"),
        sa.UniqueConstraint(
            "shortcode", "organization_id", "scope", name="contacts_fields_shortcode_index"
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("contacts_fields", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_fields_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "groups",
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
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_restricted", sa.Boolean(), nullable=False),
        sa.Column("last_communication_at", sa.DateTime(), nullable=True),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("label", "organization_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_groups_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "contacts_groups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id", "group_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("contacts_groups", schema=None) as batch_op:
        batch_op.create_index(
            "contacts_groups_organization_id_contact_id_index",
            ["organization_id", "contact_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_groups_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_groups_group_id"), ["group_id"], unique=False)

    op.create_table(
        "locations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_locations_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(
            "locations_organization_id_contact_id_index",
            ["organization_id", "contact_id"],
            unique=False,
        )

    op.create_table(
        "profiles",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "language_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=255), nullable=True),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["language_id"], ["languages.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_profiles_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_profiles_language_id"), ["language_id"], unique=False)
        batch_op.create_index(
            "profiles_organization_id_contact_id_index",
            ["organization_id", "contact_id"],
            unique=False,
        )

    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("is_restricted", sa.Boolean(), nullable=False),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "language_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["language_id"], ["languages.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone", "organization_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_language_id"), ["language_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_users_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "contact_histories",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "profile_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("event_label", sa.Text(), nullable=False),
        sa.Column(
            "event_meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("event_datetime", sa.DateTime(), nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("contact_histories", schema=None) as batch_op:
        batch_op.create_index(
            "contact_histories_contact_id_id_index", ["contact_id", "id"], unique=False
        )
        batch_op.create_index(
            "contact_histories_organization_id_contact_id_index",
            ["organization_id", "contact_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_contact_histories_profile_id"), ["profile_id"], unique=False
        )

    op.create_table(
        "simulator_leases",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("simulator_leases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_simulator_leases_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_simulator_leases_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("total_tasks", sa.Integer(), nullable=False),
        sa.Column("tasks_done", sa.Integer(), nullable=False),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("user_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_jobs_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_user_jobs_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("inserted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("user_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_tokens_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_user_tokens_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_user_tokens_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "users_groups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "group_id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("users_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_groups_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_users_groups_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_users_groups_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table(
        "organizations", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.create_foreign_key(
            "organizations_contact_id_fkey", "contacts", ["contact_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("contacts", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.create_foreign_key(
            "contacts_active_profile_id_fkey",
            "profiles",
            ["active_profile_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # After the batch rebuilds: SQLite's batch mode cannot carry expression indexes over.
    op.create_index(
        "profiles_contact_name_type_index",
        "profiles",
        ["contact_id", sa.text("coalesce(name, '')"), sa.text("coalesce(type, '')")],
        unique=True,
    )
    op.create_index(
        "contacts_organization_id_lower_name_index",
        "contacts",
        ["organization_id", sa.text("lower(name)"), "id"],
    )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_constraint("contacts_active_profile_id_fkey", type_="foreignkey")
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.drop_constraint("organizations_contact_id_fkey", type_="foreignkey")
    op.drop_index("contacts_organization_id_lower_name_index", table_name="contacts")
    op.drop_index("profiles_contact_name_type_index", table_name="profiles")
    with op.batch_alter_table("users_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_groups_user_id"))
        batch_op.drop_index(batch_op.f("ix_users_groups_organization_id"))
        batch_op.drop_index(batch_op.f("ix_users_groups_group_id"))

    op.drop_table("users_groups")
    with op.batch_alter_table("user_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_user_tokens_session_id"))
        batch_op.drop_index(batch_op.f("ix_user_tokens_organization_id"))
        batch_op.drop_index(batch_op.f("ix_user_tokens_expires_at"))

    op.drop_table("user_tokens")
    with op.batch_alter_table("user_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_jobs_user_id"))
        batch_op.drop_index(batch_op.f("ix_user_jobs_organization_id"))

    op.drop_table("user_jobs")
    with op.batch_alter_table("simulator_leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulator_leases_user_id"))
        batch_op.drop_index(batch_op.f("ix_simulator_leases_organization_id"))

    op.drop_table("simulator_leases")
    with op.batch_alter_table("contact_histories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_histories_profile_id"))
        batch_op.drop_index("contact_histories_organization_id_contact_id_index")
        batch_op.drop_index("contact_histories_contact_id_id_index")

    op.drop_table("contact_histories")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_organization_id"))
        batch_op.drop_index(batch_op.f("ix_users_language_id"))
        batch_op.drop_index(batch_op.f("ix_users_contact_id"))

    op.drop_table("users")
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index("profiles_organization_id_contact_id_index")
        batch_op.drop_index(batch_op.f("ix_profiles_language_id"))
        batch_op.drop_index(batch_op.f("ix_profiles_contact_id"))

    op.drop_table("profiles")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index("locations_organization_id_contact_id_index")
        batch_op.drop_index(batch_op.f("ix_locations_contact_id"))

    op.drop_table("locations")
    with op.batch_alter_table("contacts_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_groups_group_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_groups_contact_id"))
        batch_op.drop_index("contacts_groups_organization_id_contact_id_index")

    op.drop_table("contacts_groups")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_groups_organization_id"))

    op.drop_table("groups")
    with op.batch_alter_table("contacts_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_fields_organization_id"))

    op.drop_table("contacts_fields")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_language_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_active_profile_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("access_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_roles_organization_id"))

    op.drop_table("access_roles")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_default_language_id"))
        batch_op.drop_index(batch_op.f("ix_organizations_contact_id"))

    op.drop_table("organizations")
    op.drop_table("languages")
