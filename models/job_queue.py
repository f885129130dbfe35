"""`job_queue`: the jobs waiting, running and done on the embedded SQLite database
(resolvers.jobs runs them; on PostgreSQL procrastinate's own tables hold the jobs and this
table stays empty).

A row is `todo` until a runner claims it (`doing`, with the runner's name and a heartbeat
it renews while the job runs), then `succeeded`, or back to `todo` for a retry, or
`failed` after the last attempt. Jobs sharing a `lock` run one at a time in id order; at
most one `todo` row holds a given `queueing_lock` (a unique partial index)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from models.base import Timestamp, id_column, json_column, timestamp_column, utcnow

TODO, DOING, SUCCEEDED, FAILED = "todo", "doing", "succeeded", "failed"


class JobQueue(SQLModel, table=True):
    __tablename__ = "job_queue"
    __table_args__ = (
        # The runner's question: which todo jobs are due (status, run_at).
        Index("job_queue_status_run_at_index", "status", "run_at"),
        # The lock check: earlier or running jobs of the same lock.
        Index("job_queue_lock_status_index", "lock", "status"),
        Index(
            "job_queue_queueing_lock_todo_index",
            "queueing_lock",
            unique=True,
            sqlite_where=text("status = 'todo'"),
            postgresql_where=text("status = 'todo'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    name: str = Field(sa_column=Column(String(128), nullable=False))
    args: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    status: str = Field(default=TODO, sa_column=Column(String(16), nullable=False))
    lock: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    queueing_lock: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    # Not before then (naive UTC).
    run_at: datetime = Field(sa_column=Column(Timestamp, nullable=False))
    # Runs started so far (a run cut short by a dead process counts).
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    # The runner running it, and when that runner last said it still is.
    worker: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    heartbeat_at: datetime | None = Field(default=None, sa_column=Column(Timestamp, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=Column(Timestamp, nullable=True))
