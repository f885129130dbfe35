"""Runtime settings: every knob is an environment variable (pydantic-settings)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"
PLACEHOLDER_ADMIN_PASSWORD = "Secret1234!"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./glific.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # Comma-separated origins allowed to call /api, /api/v1/* and /socket from a browser.
    cors_origins: str = "http://localhost:3000,http://127.0.0.1:3000"
    # A build of Glific's web app to serve from this server (README "Use Glific's web app").
    frontend_dir: str = ""
    # Where uploaded media is kept, and the address WhatsApp fetches it from (this server's
    # public URL, e.g. https://glific.example.org; empty: the address the upload came to).
    media_dir: str = "./media"
    public_url: str = ""

    # Seeded on a fresh install (make run) and by `python -m app seed`.
    admin_phone: str = "917834811114"
    admin_password: str = PLACEHOLDER_ADMIN_PASSWORD
    admin_name: str = "Glific Admin"
    default_org_name: str = "Glific"
    default_org_shortcode: str = "glific"

    # Tokens are random; only their SHA-256 is stored. The secret salts that hash so a
    # leaked database alone cannot be replayed against another installation.
    secret_key: str = PLACEHOLDER_SECRET
    access_token_minutes: int = 30
    renewal_token_days: int = 30

    # Rate limits on unauthenticated requests, as Glific's (a limited request gets HTTP 429
    # `Rate limit exceeded`). Counted in each process's memory: N processes let through up
    # to N times these. 0 turns a limit off.
    # Sign-in attempts a minute for one phone number, from anywhere.
    signin_attempts_per_minute: int = Field(default=50, ge=0)
    # Requests a minute from one client address to one route: POST /api/v1/session,
    # POST /api/v1/session/renew, DELETE /api/v1/session, and refused (401) tokens on /api.
    unauthenticated_requests_per_minute: int = Field(default=50, ge=0)
    # Counters each limit keeps at most (the oldest are forgotten first): bounds the memory
    # an attacker rotating phones or addresses can make the process use.
    rate_limit_max_keys: int = Field(default=100_000, ge=1)
    # Threads that hash and check passwords, off the event loop. Few on purpose: a flood of
    # sign-ins queues for them instead of taking every core from the requests being served.
    password_hash_threads: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) // 2), ge=1
    )

    # GraphQL hardening.
    max_query_depth: int = 15
    max_aliases: int = 50
    max_tokens: int = 20_000
    max_body_bytes: int = 2 * 1024 * 1024

    # contact_histories rows kept per contact (Glific keeps about 25); 0 keeps all.
    history_rows_per_contact: int = 25
    # Contact import: rows per CSV (one transaction), and whether a URL import may reach
    # private or loopback addresses (off: the API must not be a door into the server's network).
    import_max_rows: int = Field(default=2_000, ge=1)
    import_url_allow_private: bool = False
    # How long a process reuses language rows before reading them again (0: always read).
    language_cache_seconds: float = Field(default=60, ge=0)
    # Region used to read phone numbers written without a country code; empty = refuse them.
    default_phone_region: str = ""
    # SQL echo for debugging.
    sql_echo: bool = False

    # Load. A request holds at most one database connection at a time; past `db_pool_size`
    # requests queue for one, and after `db_pool_timeout_seconds` get a retryable error.
    db_pool_size: int = Field(default=20, ge=1)
    db_pool_timeout_seconds: float = Field(default=30, gt=0)
    # A write that finds the database locked (SQLite: another process holds the write lock;
    # PostgreSQL: another transaction holds the row) waits this long, then gets a retryable
    # error. This process's own writers queue without limit instead.
    db_busy_timeout_seconds: float = Field(default=5, gt=0)
    # A statement running longer than this is stopped with a clear error.
    statement_timeout_seconds: float = Field(default=20, gt=0)
    # SQLite runs statements on the event loop; a read still running after this many
    # milliseconds is stopped and run again in a worker thread, so a slow count cannot
    # stall every other request.
    sqlite_inline_budget_ms: float = Field(default=20, ge=0)
    # A request body must have arrived completely within this time (408 otherwise): a
    # client that stalls mid-upload cannot hold the server's resources.
    body_timeout_seconds: float = Field(default=30, gt=0)

    # Jobs (resolvers.jobs): flow timers and, later, inbound processing and sending. Run in
    # the app's process unless JOBS_ENABLED is off (then `python -m app worker` runs them).
    jobs_enabled: bool = True
    # Jobs one process runs at the same time.
    jobs_concurrency: int = Field(default=4, ge=1)
    # How often a runner looks for due jobs when nothing woke it (seconds). SQLite: this
    # process's own defers wake it at once; PostgreSQL: LISTEN/NOTIFY does.
    jobs_poll_seconds: float = Field(default=1.0, gt=0)
    # Runs of a failing job before it is left failed (first run included), and the first
    # retry's delay (doubled for each further retry, at most an hour).
    jobs_max_attempts: int = Field(default=5, ge=1)
    jobs_retry_seconds: float = Field(default=10.0, ge=0)
    # A running job whose process has not reported for this long is taken as abandoned
    # (the process died) and run again.
    jobs_lease_seconds: float = Field(default=60.0, gt=0)
    # A stopping process waits this long for its running jobs to end; the rest are cut
    # short and wait again, to be run from the start by the next runner.
    jobs_shutdown_seconds: float = Field(default=5.0, ge=0)
    # Finished (succeeded) jobs are kept this long, then deleted; failed jobs are kept.
    jobs_keep_hours: int = Field(default=24, ge=0)
    # Comma-separated modules imported at start that register job functions (beyond the
    # application's own), e.g. tests.utils.sample_jobs.
    job_modules: str = ""

    # WhatsApp (webhook/, resolvers/outbox.py). The default organization's provider accounts
    # come from these at start (`python -m app provider ...` sets any organization's).
    # WHATSAPP_PROVIDER: which provider sends its replies (`log` stores and logs them).
    whatsapp_provider: Literal["log", "gupshup", "meta"] = "log"
    gupshup_app_name: str = ""
    gupshup_api_key: str = ""
    gupshup_source_number: str = ""
    gupshup_api_url: str = "https://api.gupshup.io"
    # Comma-separated IPs or CIDR ranges that may post Gupshup callbacks (empty: any).
    gupshup_allowed_sources: str = ""
    meta_app_secret: str = ""
    meta_verify_token: str = ""
    meta_access_token: str = ""
    meta_phone_number_id: str = ""
    meta_api_url: str = "https://graph.facebook.com"
    meta_api_version: str = "v21.0"
    # Maytapi (WhatsApp groups; never 1:1 replies): the product id, its API token and URL.
    maytapi_product_id: str = ""
    maytapi_token: str = ""
    maytapi_api_url: str = "https://api.maytapi.com"
    # Take the client address from X-Forwarded-For (its first entry) for the allow-list:
    # only behind a proxy that sets it.
    trust_forwarded_for: bool = False
    # Sending: one request's timeout, attempts before a message is marked failed, the first
    # retry's delay (doubled each time, at most SEND_RETRY_MAX_SECONDS).
    send_timeout_seconds: float = Field(default=10.0, gt=0)
    send_max_attempts: int = Field(default=5, ge=1)
    send_retry_seconds: float = Field(default=2.0, ge=0)
    send_retry_max_seconds: float = Field(default=300.0, ge=0)

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        # The shipped values are public (they are in this file): production refuses them.
        if self.environment != "production":
            return self
        problems = []
        if self.secret_key == PLACEHOLDER_SECRET:
            problems.append("SECRET_KEY must be set to a real secret in production")
        if self.admin_password == PLACEHOLDER_ADMIN_PASSWORD:
            problems.append("ADMIN_PASSWORD must be set to a password of your own in production")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def job_module_list(self) -> list[str]:
        return [m.strip() for m in self.job_modules.split(",") if m.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
