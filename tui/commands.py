"""Command palette providers, one per area; every title reads `area: Action`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import LiaisonApp


@dataclass(frozen=True)
class Command:
    """One palette entry."""

    title: str
    run: Callable[[], Any]
    help: str
    discoverable: bool = True


class LiaisonProvider(Provider):
    """Lists this area's commands that make sense on the current screen; searched with the palette's matcher."""

    @property
    def liaison(self) -> LiaisonApp:
        return cast("LiaisonApp", self.app)

    def commands(self) -> Iterator[Command]:
        """The commands available now."""
        return iter(())

    async def discover(self) -> Hits:
        for command in self.commands():
            if command.discoverable:
                yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.run, help=command.help)


class RecordsCommands(LiaisonProvider):
    """records: New, Browse, Search, Refresh, Clear filters, Order; filter: any facet value."""

    def commands(self) -> Iterator[Command]:
        from tui.screens.base import LiaisonScreen
        from tui.screens.browser import BrowserScreen

        app = self.liaison
        if app.session is None:
            return
        screen = self.screen
        if isinstance(screen, LiaisonScreen):
            yield Command("records: New", screen.action_new_record, "Draft a new record (compose form).")
        yield Command("records: Browse", app.action_home, "Back to the records browser.")
        yield Command("records: Search", app.action_search, "Search words in titles and summaries.")
        yield Command("records: Refresh", app.action_refresh, "Reload what is shown from the store.")
        if isinstance(screen, BrowserScreen):
            yield Command("records: Clear filters", screen.action_clear_filters, "Remove every filter and the search.")
            yield Command("records: Newest / oldest first", screen.action_toggle_order, "Flip the order of the list.")
            for facet, value in screen.facet_values():
                verb = "Remove" if screen.filters_on(facet, value) else "Add"
                yield Command(
                    f"filter: {verb} {facet} {value}",
                    partial(screen.toggle_filter, facet, value),
                    f"{verb} the {facet} filter {value}.",
                    discoverable=False,
                )


class ReviewCommands(LiaisonProvider):
    """review: Open queue, Approve, Return, Submit."""

    def commands(self) -> Iterator[Command]:
        from tui.screens.detail import DetailScreen
        from tui.screens.review import ReviewScreen

        app = self.liaison
        if app.session is None:
            return
        screen = self.screen
        yield Command("review: Open queue", app.action_review_queue, "Records waiting in review, oldest first.")
        if isinstance(screen, ReviewScreen):
            yield Command(
                "review: Approve",
                screen.action_approve,
                "Approve the record shown (the store checks role and four-eyes).",
            )
            yield Command(
                "review: Return", screen.action_return, "Return the record shown to its author with a comment."
            )
        if isinstance(screen, DetailScreen):
            # Only what the store allows on this record now: a refused action is not offered.
            offered = [
                ("approve", "review: Approve", screen.action_approve, "Approve this record."),
                ("return", "review: Return", screen.action_return, "Return this record to its author with a comment."),
                ("submit", "review: Submit", screen.action_submit, "Put this draft in review."),
                ("edit", "records: Edit", screen.action_edit, "Edit this record."),
                ("actioned", "records: Mark actioned", screen.action_actioned, "Mark this received record actioned."),
                ("close", "records: Close", screen.action_close, "Close this record: no more work needed."),
            ]
            for action, title, run, help_text in offered:
                if screen.may(action):
                    yield Command(title, run, help_text)


class VaultCommands(LiaisonProvider):
    """vault: Lock; app: Keys, Quit."""

    def commands(self) -> Iterator[Command]:
        app = self.liaison
        if app.session is not None:
            yield Command(
                "vault: Lock",
                app.action_lock,
                "Forget the keys and every decrypted word; ask for the passphrase again.",
            )
        yield Command("app: Keys", app.action_help, "Every key of the current screen.")
        yield Command("app: Quit", app.action_quit, "Lock and leave Liaison.")


class BundleCommands(LiaisonProvider):
    """bundles: Export, Import, History; contacts: Open."""

    def commands(self) -> Iterator[Command]:
        from tui.screens.bundle_history import BundleHistoryScreen
        from tui.screens.contacts import ContactsScreen
        from tui.screens.export import ExportScreen
        from tui.screens.import_bundle import ImportScreen

        app = self.liaison
        if app.session is None:
            return
        yield Command(
            "bundles: Export",
            lambda: app.push_screen(ExportScreen()),
            "Write a sealed, signed bundle for a counterpart ministry.",
        )
        yield Command(
            "bundles: Import",
            lambda: app.push_screen(ImportScreen()),
            "Import a bundle or a receipt from a counterpart.",
        )
        yield Command(
            "contacts: Open",
            lambda: app.push_screen(ContactsScreen()),
            "This ministry's fingerprint and its counterpart contacts.",
        )
        yield Command(
            "bundles: History",
            lambda: app.push_screen(BundleHistoryScreen()),
            "Every bundle sent and received: when, to or from whom, how many records, acknowledged or not.",
        )


class DeskCommands(LiaisonProvider):
    """desk: Dashboard, Meetings."""

    def commands(self) -> Iterator[Command]:
        app = self.liaison
        if app.session is None:
            return
        yield Command(
            "desk: Dashboard",
            app.action_dashboard,
            "Next meeting, review queue, overdue actions, shares and acknowledgements as charts (D).",
        )
        yield Command(
            "desk: Meetings", app.action_meetings, "The working group's meetings, agendas, actions and packs."
        )


class AuditCommands(LiaisonProvider):
    """audit: Log, Verify."""

    def commands(self) -> Iterator[Command]:
        app = self.liaison
        if app.session is None:
            return
        yield Command(
            "audit: Log",
            app.action_audit,
            "The signed audit log: who did what, when, with which key; filter by record, officer, action, day (A).",
        )
        yield Command(
            "audit: Verify",
            app.action_audit_verify,
            "Check every signature, the chain, the checkpoints and every record against the log.",
        )


class OfficerCommands(LiaisonProvider):
    """officers: Officers and keys."""

    def commands(self) -> Iterator[Command]:
        app = self.liaison
        if app.session is None:
            return
        yield Command(
            "officers: Officers and keys",
            app.action_officers,
            "Who may unlock the store and with what role; each key's age; add, remove (admins) (O).",
        )
