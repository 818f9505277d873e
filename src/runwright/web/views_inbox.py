"""The inbox: everything `runwright inbox` lists, each item with its actions.

Sections are rendered generically from the items (title, detail, body fields, actions), so a
section added through ``runwright.api.inbox.register_section`` shows up with no template work.
An action runs in the browser when ``runwright.api.inbox`` knows how to carry it out
(``register_action`` or a section module's ``ACTIONS``); its ``fields`` become form inputs (an
escalation's answer is a ``textarea`` field). Every action posts to ``/inbox/act``, which
dispatches on (section, action name). Other actions show their command.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runwright.api.inbox import Inbox, ItemAction, actions
from runwright.domain.workflows.models import InboxAction, InboxItem
from runwright.web.pages import Pages

SECTION_TITLES = {
    "mutations": "Writes nobody could confirm",
    "escalations": "Escalations",
    "blocked": "Blocked workflows",
    "stale_inputs": "Stale inputs",
    "steps_in_doubt": "Steps in doubt",
}
SECTION_HINTS = {
    "mutations": "A call to an outside system may or may not have happened. Its real parameters "
    "are below: check the other system, then tell runwright what happened.",
    "escalations": "A workflow failed in a way only a person can fix.",
    "blocked": "These workflows stopped after an error; fix the cause, then resume.",
    "stale_inputs": "Waiting for longer than expected.",
    "steps_in_doubt": "A worker was lost while these steps ran.",
    "plan_escalations": "A plan's gate is blocked: choose an option; a note is carried into the "
    "next correction.",
}
#: Actions that are a page to look at rather than something to do.
LINKS = {("stale_inputs", "Investigate"): "/inputs/{item_id}"}
#: Where an item of a section is shown in full.
ITEM_PAGES = {
    "stale_inputs": "/inputs/{item_id}",
    "plan_escalations": "/plans/{run_id}#escalation",
}
RESERVED_FIELDS = {"csrf", "section", "item_id", "action", "next"}


def item_page(item: InboxItem) -> str | None:
    """Where an item is shown in full (its input, its plan run…), if anywhere."""
    page = ITEM_PAGES.get(item.section)
    if page is None or ("{run_id}" in page and not item.run_id):
        return None
    return page.format(item_id=item.item_id, run_id=item.run_id or "")


def section_title(section: str) -> str:
    """A person's name for a section ('plan_escalations' → 'Plan escalations')."""
    return SECTION_TITLES.get(section, section.replace("_", " ").capitalize())


@dataclass(frozen=True)
class ShownAction:
    """An item's action as the page shows it: a form, a link, or a command to run."""

    action: InboxAction
    how: ItemAction | None
    link: str | None


@dataclass(frozen=True)
class ShownItem:
    """An item with its actions resolved."""

    item: InboxItem
    actions: list[ShownAction]
    page: str | None
    #: The actions that say in a line what choosing them means.
    helped: list[ShownAction]


def show(item: InboxItem, known: dict[tuple[str, str], ItemAction]) -> ShownItem:
    """How the page renders ``item``."""
    shown = []
    for a in item.actions:
        link = LINKS.get((item.section, a.name))
        shown.append(
            ShownAction(
                action=a,
                how=known.get((item.section, a.name)),
                link=link.format(item_id=item.item_id) if link else None,
            )
        )
    helped = [a for a in shown if a.how is not None and a.how.help]
    return ShownItem(item, shown, item_page(item), helped)


def group(items: list[InboxItem]) -> list[tuple[str, list[ShownItem]]]:
    """Items by section, in the order the sections came."""
    known = actions()
    out: dict[str, list[ShownItem]] = {}
    for item in items:
        out.setdefault(item.section, []).append(show(item, known))
    return list(out.items())


def body_fields(params: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    """(name, value, is_structured) for each body field of an item."""
    return [(k, v, isinstance(v, dict | list)) for k, v in params.items()]


class InboxViews:
    """The inbox page and the one action route."""

    def __init__(self, pages: Pages):
        self.p = pages

    def inbox(self, request: Request) -> Response:
        """Every decision only a person can take, section by section."""
        raw = request.query_params.get("stale_days")
        try:
            days = float(raw) if raw else None
        except ValueError:
            days = None
        items = Inbox(self.p.client).items(stale_days=days)
        return self.p.render(
            request,
            "inbox.html",
            sections=group(items),
            total=len(items),
            counts=Counter(i.section for i in items),
            title=section_title,
            hints=SECTION_HINTS,
            body_fields=body_fields,
        )

    async def act(self, request: Request) -> Response:
        """Carry out one action of one item (dispatched on its section and name)."""

        def work(form: FormData) -> str:
            values = {k: str(v) for k, v in form.items() if k not in RESERVED_FIELDS}
            return Inbox(self.p.client).act(
                str(form.get("section") or ""),
                str(form.get("item_id") or ""),
                str(form.get("action") or ""),
                values,
                by=self.p.actor,
            )

        return await self.p.perform(request, "/inbox", work)

    def routes(self) -> list[Route]:
        """The routes of this page."""
        return [
            Route("/inbox", self.inbox),
            Route("/inbox/act", self.act, methods=["POST"]),
        ]
