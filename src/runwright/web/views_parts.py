"""Pages of the parts built on the core: the patch ledger and debug packets."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runwright.errors import NotFound, RunwrightError
from runwright.web.pages import Pages

PATCH_STATES = (
    "created",
    "validated",
    "queued",
    "applied",
    "apply_failed",
    "verified",
    "committed",
    "rolled_back",
    "quarantined",
    "dropped",
)


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """Each line of a unified diff with its kind: header, hunk, add, del or ctx."""
    out = []
    for line in diff.splitlines():
        if line.startswith(("diff --git", "--- ", "+++ ", "index ", "new file", "deleted file")):
            kind = "header"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


class PartViews:
    """The patch ledger and the debug packets."""

    def __init__(self, pages: Pages):
        self.p = pages

    def patches(self, request: Request) -> Response:
        """The ledger: newest patches first, filtered by state."""
        state = request.query_params.get("state") or ""
        states = (state,) if state in PATCH_STATES else ()
        records = self.p.client.patches.list(states=states, limit=100)
        return self.p.render(
            request, "patches.html", records=records, state=state, states=PATCH_STATES
        )

    def patch(self, request: Request) -> Response:
        """One patch: scope, validation, state history, quarantine and the diff."""
        try:
            record = self.p.client.patches.get(request.path_params["patch_id"])
        except NotFound as exc:
            return self.p.error(request, exc, 404)
        return self.p.render(
            request, "patch.html", r=record, lines=diff_lines(record.artifact.diff_text)
        )

    def packets(self, request: Request) -> Response:
        """Debug packets, newest first."""
        packets = self.p.client.ops.packets()
        return self.p.render(request, "packets.html", packets=packets)

    def packet(self, request: Request) -> Response:
        """One debug packet with its repro, hypotheses and experiments."""
        try:
            packet = self.p.client.ops.packet(request.path_params["packet_id"])
        except RunwrightError as exc:
            return self.p.error(request, exc, 404)
        return self.p.render(request, "packet.html", d=packet)

    def routes(self) -> list[Route]:
        """The routes of these pages."""
        return [
            Route("/patches", self.patches),
            Route("/patches/{patch_id}", self.patch),
            Route("/debug", self.packets),
            Route("/debug/{packet_id}", self.packet),
        ]
