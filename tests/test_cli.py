"""The command line (`python -m app ...`), run as a real subprocess on a fresh SQLite file:
create-user makes an organization and a user who can sign in; migrate and seed are
idempotent; bad input ends with a non-zero exit and a clear message on stderr."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.utils.server import _free_port, start_server
from tests.utils.tenants import unique_phone

ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    db: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`python -m app <args>` with DATABASE_URL pointing at `db`, from a neutral folder (so
    no .env of the repository is read)."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "ADMIN_", "ENVIRONMENT", "SECRET_KEY"))
    }
    environment.update(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "PYTHONPATH": str(ROOT),
            "ENVIRONMENT": "development",
        }
    )
    environment.update(env or {})
    folder = next(p for p in db.parents if p.is_dir())
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def sign_in(db: Path, phone: str, password: str) -> dict[str, object]:
    """Sign in through a live server on the same database; returns the GraphQL `currentUser`."""
    live = start_server(f"sqlite+aiosqlite:///{db}")
    try:
        response = live.client.post(
            "/api/v1/session", json={"user": {"phone": phone, "password": password}}
        )
        assert response.status_code == 200, response.text
        token = response.json()["data"]["access_token"]
        me = live.client.post(
            "/api",
            json={"query": "{ currentUser { user { phone roles organization { shortcode } } } }"},
            headers={"authorization": token},
        )
        assert me.status_code == 200, me.text
        return me.json()["data"]["currentUser"]["user"]
    finally:
        live.stop()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def test_create_user_makes_the_organization_and_a_user_who_can_sign_in(db: Path) -> None:
    phone = unique_phone()
    result = run_cli(
        db, "create-user", "--org", "myngo", "--phone", f"+{phone}", "--password", "Sup3rSecret!"
    )
    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout and "myngo" in result.stdout
    assert rows(db, "SELECT shortcode FROM organizations") == [("myngo",)]

    user = sign_in(db, phone, "Sup3rSecret!")
    assert user == {"phone": phone, "roles": ["Manager"], "organization": {"shortcode": "myngo"}}

    # A second user in the same organization, with another role.
    other = unique_phone()
    result = run_cli(
        db, "create-user", "--org", "myngo", "--phone", other, "--password", "An0therOne",
        "--role", "staff",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert rows(db, "SELECT count(*) FROM organizations") == [(1,)]
    assert sign_in(db, other, "An0therOne")["roles"] == ["Staff"]


def test_same_phone_twice_reports_it_exists(db: Path) -> None:
    phone = unique_phone()
    args = ("create-user", "--org", "twice", "--phone", phone, "--password", "FirstPass1")
    first = run_cli(db, *args)
    assert first.returncode == 0, first.stderr
    again = run_cli(db, "create-user", "--org", "twice", "--phone", phone, "--password", "Other123")
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout
    assert rows(db, f"SELECT count(*) FROM users WHERE phone = '{phone}'") == [(1,)]
    # The existing user is left as it was: the first password still works.
    assert sign_in(db, phone, "FirstPass1")["phone"] == phone


@pytest.mark.parametrize(
    "args, words",
    [
        (["--phone", "not-a-phone", "--password", "LongEnough1"], ["Phone", "not a valid phone"]),
        (["--phone", "123", "--password", "LongEnough1"], ["Phone", "not a valid phone"]),
        (["--phone", "PHONE", "--password", "short"], ["Password", "at least 8"]),
        (["--phone", "PHONE", "--password", "LongEnough1", "--role", "boss"], ["role", "boss"]),
        (["--password", "LongEnough1"], ["--phone"]),
    ],
    ids=["letters", "too-short-phone", "short-password", "unknown-role", "missing-phone"],
)
def test_bad_create_user_input(db: Path, args: list[str], words: list[str]) -> None:
    args = [unique_phone() if a == "PHONE" else a for a in args]
    result = run_cli(db, "create-user", "--org", "badinput", *args)
    assert result.returncode != 0
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "created" not in result.stdout
    # Nothing was written: no organization, no user.
    if db.exists():
        tables = {name for (name,) in rows(db, "SELECT name FROM sqlite_master")}
        if "organizations" in tables:
            assert rows(db, "SELECT count(*) FROM organizations") == [(0,)]
            assert rows(db, "SELECT count(*) FROM users") == [(0,)]


def test_bad_shortcode_is_refused(db: Path) -> None:
    result = run_cli(
        db, "create-user", "--org", "Not A Shortcode", "--phone", unique_phone(),
        "--password", "LongEnough1",
    )  # fmt: skip
    assert result.returncode != 0
    assert "shortcode" in result.stderr


def test_missing_database_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "no" / "such" / "folder" / "x.db", "migrate")
    assert result.returncode != 0
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_and_seed_are_idempotent(db: Path) -> None:
    admin = unique_phone()
    env = {"ADMIN_PHONE": admin, "ADMIN_PASSWORD": "Adm1nPassword"}
    for _ in range(2):
        migrated = run_cli(db, "migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr
    for _ in range(2):
        seeded = run_cli(db, "seed", env=env)
        assert seeded.returncode == 0, seeded.stderr
        assert admin in seeded.stdout
    assert rows(db, "SELECT count(*) FROM organizations") == [(1,)]
    assert rows(db, "SELECT count(*) FROM users") == [(1,)]
    locales = {locale for (locale,) in rows(db, "SELECT locale FROM languages")}
    assert {"en", "hi"} <= locales
    assert rows(db, "SELECT count(*) FROM languages") == [(len(locales),)]
    user = sign_in(db, admin, "Adm1nPassword")
    assert user["roles"] == ["Glific_admin"]
    # Migrating a seeded database again changes nothing either.
    assert run_cli(db, "migrate", env=env).returncode == 0
    assert rows(db, "SELECT count(*) FROM users") == [(1,)]


def test_help_lists_the_commands(db: Path) -> None:
    result = run_cli(db, "--help")
    assert result.returncode == 0
    for command in ("serve", "migrate", "seed", "create-user"):
        assert command in result.stdout


REAL_SECRETS = {
    "SECRET_KEY": "a-real-secret-key-for-this-test",
    "ADMIN_PASSWORD": "Real-Adm1n-pass",
}


@pytest.mark.parametrize(
    "placeholders, words",
    [
        (["ADMIN_PASSWORD"], ["ADMIN_PASSWORD"]),
        (["SECRET_KEY"], ["SECRET_KEY"]),
        (["SECRET_KEY", "ADMIN_PASSWORD"], ["SECRET_KEY", "ADMIN_PASSWORD"]),
    ],
    ids=["admin-password", "secret-key", "both"],
)
@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_production_refuses_placeholder_secrets(
    db: Path, command: str, placeholders: list[str], words: list[str]
) -> None:
    """The shipped SECRET_KEY and ADMIN_PASSWORD are public: production refuses to start with
    either, in one line on stderr, before touching the database."""
    env = {k: v for k, v in REAL_SECRETS.items() if k not in placeholders}
    env.update({"ENVIRONMENT": "production", "PORT": str(_free_port())})
    result = run_cli(db, command, env=env, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], result.stderr
    assert not db.exists()


def test_production_with_real_secrets_migrates(db: Path) -> None:
    result = run_cli(db, "migrate", env={"ENVIRONMENT": "production", **REAL_SECRETS})
    assert result.returncode == 0, result.stderr


def test_org_flag_switches_interactive_re_response(db: Path) -> None:
    phone = unique_phone()
    made = run_cli(
        db, "create-user", "--org", "flagged", "--phone", phone, "--password", "Fl4gPass!"
    )
    assert made.returncode == 0, made.stderr
    on = run_cli(db, "org-flag", "--org", "flagged", "interactive-re-response", "on")
    assert on.returncode == 0, on.stderr
    assert on.stdout.strip() == "interactive-re-response is on for flagged"
    [(fields,)] = rows(db, "SELECT fields FROM organizations WHERE shortcode = 'flagged'")
    assert '"interactive_re_response_enabled": true' in str(fields)
    unknown = run_cli(db, "org-flag", "--org", "nosuch", "interactive-re-response", "off")
    assert unknown.returncode == 2
    assert "no organization has the shortcode 'nosuch'" in unknown.stderr
