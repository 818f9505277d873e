"""Debug packets and stop-rule firings in the database (each operation one transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from runwright.domain.execmodel.debug import DebugPacket, PacketStatus
from runwright.domain.execmodel.records import StopRuleFiring
from runwright.errors import Conflict, NotFound
from runwright.store.core.chain import NewEvent, append_locked
from runwright.store.database import Database
from runwright.store.execmodel.rows import firing_from_row, firing_row, packet_from_row, packet_row
from runwright.store.schema.execmodel import debug_packets, stop_rule_firings

RunEvents = Sequence[tuple[str, NewEvent]]


def _events(conn: Connection, run_events: RunEvents, now: datetime) -> None:
    for run_id, event in run_events:
        append_locked(conn, run_id, [event], now)


class DebugOps:
    """The debug-packet half of the execution model's store."""

    db: Database

    def insert_packet(
        self,
        packet: DebugPacket,
        now: datetime,
        *,
        firings: Sequence[StopRuleFiring] = (),
        run_events: RunEvents = (),
    ) -> DebugPacket:
        """Create a packet (with the firings and run events that go with it)."""

        def tx(conn: Connection) -> None:
            conn.execute(debug_packets.insert(), [packet_row(packet, now)])
            if firings:
                conn.execute(stop_rule_firings.insert(), [firing_row(f) for f in firings])
            _events(conn, run_events, now)

        self.db.run(tx)
        return self.get_packet(packet.packet_id)

    def get_packet(self, packet_id: str) -> DebugPacket:
        """A packet, or NotFound."""
        q = select(debug_packets).where(debug_packets.c.packet_id == packet_id)
        row = self.db.run(lambda conn: conn.execute(q).first(), write=False)
        if row is None:
            raise NotFound(
                f"debug packet {packet_id} not found",
                hint="list packets with `runwright debug list`",
            )
        return packet_from_row(row)

    def list_packets(
        self,
        *,
        project_id: str | None = None,
        status: PacketStatus | str | None = None,
        source_run_id: str | None = None,
        limit: int = 50,
    ) -> list[DebugPacket]:
        """Packets, newest first."""
        q = select(debug_packets)
        if project_id:
            q = q.where(debug_packets.c.project_id == project_id)
        if status:
            q = q.where(debug_packets.c.status == str(status))
        if source_run_id:
            q = q.where(debug_packets.c.source_run_id == source_run_id)
        q = q.order_by(debug_packets.c.packet_id.desc()).limit(limit)
        return self.db.run(lambda conn: [packet_from_row(r) for r in conn.execute(q)], write=False)

    def update_packet(
        self,
        packet: DebugPacket,
        now: datetime,
        *,
        firings: Sequence[StopRuleFiring] = (),
        run_events: RunEvents = (),
    ) -> DebugPacket:
        """Store a changed packet whose ``version`` is one more than the stored one."""

        def tx(conn: Connection) -> None:
            row = packet_row(packet, now)
            row.pop("packet_id")
            done = conn.execute(
                debug_packets.update()
                .where(
                    debug_packets.c.packet_id == packet.packet_id,
                    debug_packets.c.version == packet.version - 1,
                )
                .values(**row)
            )
            if done.rowcount != 1:
                raise Conflict(
                    f"debug packet {packet.packet_id} changed meanwhile",
                    hint="look at it again with `runwright debug show` and retry",
                )
            if firings:
                conn.execute(stop_rule_firings.insert(), [firing_row(f) for f in firings])
            _events(conn, run_events, now)

        self.db.run(tx)
        return self.get_packet(packet.packet_id)

    def record_firings(
        self, firings: Sequence[StopRuleFiring], now: datetime, *, run_events: RunEvents = ()
    ) -> None:
        """Record stop-rule firings that change nothing else."""

        def tx(conn: Connection) -> None:
            if firings:
                conn.execute(stop_rule_firings.insert(), [firing_row(f) for f in firings])
            _events(conn, run_events, now)

        self.db.run(tx)

    def list_firings(
        self,
        *,
        project_id: str | None = None,
        run_id: str | None = None,
        block_id: str | None = None,
        packet_id: str | None = None,
        limit: int = 50,
    ) -> list[StopRuleFiring]:
        """Stop-rule firings, newest first."""
        q = select(stop_rule_firings)
        for column, value in (
            (stop_rule_firings.c.project_id, project_id),
            (stop_rule_firings.c.run_id, run_id),
            (stop_rule_firings.c.block_id, block_id),
            (stop_rule_firings.c.packet_id, packet_id),
        ):
            if value:
                q = q.where(column == value)
        q = q.order_by(stop_rule_firings.c.firing_id.desc()).limit(limit)
        return self.db.run(lambda conn: [firing_from_row(r) for r in conn.execute(q)], write=False)
