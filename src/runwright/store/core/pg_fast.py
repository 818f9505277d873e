"""PostgreSQL fast path: record a finished step in one statement, one round trip.

A step record is an UPDATE of the leased run (the fence and the chain head) plus inserts of
the attempt, its memo, its events and its evidence. On PostgreSQL every statement is a network
round trip, so they are sent as one statement of data-modifying CTEs. Every insert selects
``FROM u`` (the fenced UPDATE's RETURNING), so if the lease or the chain head no longer matches
nothing at all is written, and the caller falls back to the general path, which re-reads the
head or reports the lost lease. One statement is atomic, so it runs in autocommit.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from runwright.store.driver_sql import DriverStatement

RECORD_STEP = text(
    """
WITH u AS (
    UPDATE runs
       SET event_seq = :n_seq, last_event_hash = :n_hash, updated_at = :now,
           step_attempts = step_attempts + :d_steps, errors = errors + :d_errors
     WHERE run_id = :run AND lease_owner = :owner AND attempt = :attempt AND event_seq = :seq
    RETURNING run_id
), ev AS (
    INSERT INTO run_events
    SELECT e.event_id, e.run_id, e.seq, e.ts, e.kind, e.step_attempt_id, e.payload,
           e.prev_hash, e.hash
      FROM u, jsonb_to_recordset(CAST(:events AS jsonb)) AS e(
           event_id text, run_id text, seq int, ts timestamptz, kind text,
           step_attempt_id text, payload text, prev_hash text, hash text)
), new_attempt AS (
    INSERT INTO step_attempts (step_attempt_id, run_id, sequence, step_key, attempt, tool_id,
                               state, idempotent, started_at, ended_at, failure, worker_id,
                               tool_run_id, execution_request_id, prompt_id, outputs)
    SELECT :a_id, :run, :a_sequence, :a_step_key, :a_attempt, :a_tool_id, :a_state,
           :a_idempotent, :a_started_at, :a_ended_at, :a_failure, :a_worker_id,
           :a_tool_run_id, :a_execution_request_id, :a_prompt_id, :a_outputs
      FROM u WHERE NOT :begun
), done_attempt AS (
    UPDATE step_attempts
       SET state = :a_state, ended_at = :a_ended_at, failure = :a_failure, outputs = :a_outputs
      FROM u
     WHERE :begun AND step_attempts.step_attempt_id = :a_id AND step_attempts.state = 'running'
    RETURNING 1
), memo AS (
    INSERT INTO step_results (run_id, step_key, status, result, failure, step_attempt_id,
                              completed_at)
    SELECT :run, :a_step_key, :m_status, :m_result, :m_failure, :a_id, :m_completed_at
      FROM u WHERE :has_memo
), evidence_rows AS (
    INSERT INTO evidence
    SELECT x.evidence_id, x.run_id, x.step_attempt_id, x.artifact_path, x.label, x.sha256,
           x.size, x.media_type, x.counts, x.manifest_path, x.log_path, x.commit_hash,
           x.sheet_row, x.created_at
      FROM u, jsonb_to_recordset(CAST(:evidence AS jsonb)) AS x(
           evidence_id text, run_id text, step_attempt_id text, artifact_path text,
           label text, sha256 text, size bigint, media_type text, counts text,
           manifest_path text, log_path text, commit_hash text, sheet_row text,
           created_at timestamptz)
)
SELECT (SELECT count(*) FROM u) AS fenced, (SELECT count(*) FROM done_attempt) AS closed
"""
)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def rows_json(rows: list[dict[str, Any]]) -> str:
    """Rows as a JSON array for jsonb_to_recordset (timestamps as ISO text)."""
    return json.dumps([{k: _iso(v) for k, v in row.items()} for row in rows])


_RECORD_STEP = DriverStatement(RECORD_STEP)


def record_step(conn: Connection, params: dict[str, Any]) -> tuple[bool, bool]:
    """Run the one-statement step record; return (fence matched, begun attempt closed)."""
    row = _RECORD_STEP.execute(conn, params).one()
    return bool(row.fenced), bool(row.closed)
