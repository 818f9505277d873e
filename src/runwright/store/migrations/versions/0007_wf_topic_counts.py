"""Event workflows: events per (workflow, topic, status), kept by triggers

The topics list, a workflow's page and a topic's page show how many events each topic has in
each status. Counting them from ``wf_events`` reads every event (200,000 events: 40-80 ms), so
``wf_topic_counts`` keeps the counts, changed by triggers on ``wf_events`` in the transaction
that inserts, updates or deletes events: exact at every snapshot, whoever writes (the engine,
a person's skip, a bulk load), with no change to the code that writes events.

Writers never wait for each other on the counts: on PostgreSQL each writer adds to rows of its
own (``shard`` = its backend's pid; two transactions running at once are on two backends); on
SQLite, which has one writer at a time, to shard 0. A count is the sum of its shards. Row
triggers, the update one only when the status (or the workflow or topic) changes: about 45 us
per counted change on PostgreSQL, nothing measurable on SQLite. The existing events are counted
when the table is created, in the same transaction as the triggers (PostgreSQL's CREATE TRIGGER
holds writers of ``wf_events`` off until it commits).

Writers of ``wf_events`` must not use SQLite's ``INSERT OR REPLACE`` (it removes the row it
replaces without firing delete triggers, so the count would grow by one); an upsert (``ON
CONFLICT ... DO UPDATE``) is counted right on both databases.

Shards are never folded: PostgreSQL keeps at most four rows per topic for each backend pid that
ever changed its events (a topic's count sums them through the primary key).

Revision ID: 0007_wf_topic_counts
Revises: 0006_wf_listing_indexes
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_wf_topic_counts"
down_revision: str | Sequence[str] | None = "0006_wf_listing_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE = [
    """CREATE TRIGGER wf_events_counted_insert AFTER INSERT ON wf_events BEGIN
  INSERT INTO wf_topic_counts (workflow, topic, status, shard, n)
  VALUES (new.workflow, new.topic, new.status, 0, 1)
  ON CONFLICT (workflow, topic, status, shard) DO UPDATE SET n = wf_topic_counts.n + 1;
END""",
    """CREATE TRIGGER wf_events_counted_update AFTER UPDATE OF workflow, topic, status
ON wf_events
WHEN old.status IS NOT new.status OR old.workflow IS NOT new.workflow
  OR old.topic IS NOT new.topic
BEGIN
  UPDATE wf_topic_counts SET n = n - 1
  WHERE workflow = old.workflow AND topic = old.topic AND status = old.status AND shard = 0;
  INSERT INTO wf_topic_counts (workflow, topic, status, shard, n)
  VALUES (new.workflow, new.topic, new.status, 0, 1)
  ON CONFLICT (workflow, topic, status, shard) DO UPDATE SET n = wf_topic_counts.n + 1;
END""",
    """CREATE TRIGGER wf_events_counted_delete AFTER DELETE ON wf_events BEGIN
  UPDATE wf_topic_counts SET n = n - 1
  WHERE workflow = old.workflow AND topic = old.topic AND status = old.status AND shard = 0;
END""",
]

#: PostgreSQL: row triggers (the update one only when a counted column changed) calling one
#: function that moves the row's count in this backend's shard.
PG = [
    """CREATE FUNCTION wf_events_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO wf_topic_counts AS c (workflow, topic, status, shard, n)
    VALUES (OLD.workflow, OLD.topic, OLD.status, pg_backend_pid(), -1)
    ON CONFLICT (workflow, topic, status, shard) DO UPDATE SET n = c.n - 1;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO wf_topic_counts AS c (workflow, topic, status, shard, n)
    VALUES (NEW.workflow, NEW.topic, NEW.status, pg_backend_pid(), 1)
    ON CONFLICT (workflow, topic, status, shard) DO UPDATE SET n = c.n + 1;
  END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER wf_events_counted_insert AFTER INSERT ON wf_events
FOR EACH ROW EXECUTE FUNCTION wf_events_counted()""",
    """CREATE TRIGGER wf_events_counted_update AFTER UPDATE OF workflow, topic, status
ON wf_events FOR EACH ROW
WHEN (old.status IS DISTINCT FROM new.status OR old.workflow IS DISTINCT FROM new.workflow
  OR old.topic IS DISTINCT FROM new.topic)
EXECUTE FUNCTION wf_events_counted()""",
    """CREATE TRIGGER wf_events_counted_delete AFTER DELETE ON wf_events
FOR EACH ROW EXECUTE FUNCTION wf_events_counted()""",
]
TRIGGERS = ("wf_events_counted_insert", "wf_events_counted_update", "wf_events_counted_delete")


def upgrade() -> None:
    op.create_table(
        "wf_topic_counts",
        sa.Column("workflow", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "workflow", "topic", "status", "shard", name=op.f("pk_wf_topic_counts")
        ),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE if sqlite else PG:
        op.execute(statement)
    op.execute(
        "INSERT INTO wf_topic_counts (workflow, topic, status, shard, n) "
        "SELECT workflow, topic, status, 0, count(*) FROM wf_events "
        "GROUP BY workflow, topic, status"
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in reversed(TRIGGERS):
        op.execute(f"DROP TRIGGER {name}" + ("" if sqlite else " ON wf_events"))
    if not sqlite:
        op.execute("DROP FUNCTION wf_events_counted()")
    op.drop_table("wf_topic_counts")
