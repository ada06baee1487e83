"""The exchange listens to the apps below it (it is imported by none of them)."""

from __future__ import annotations

from . import services


def on_document_issued(sender, document, actor, **kwargs) -> None:
    """In the issuing transaction: the deliveries are written with the issue (or not at all)."""
    services.create_deliveries(document, actor)


def on_incoming_case_changed(sender, case, actor, verb: str, **kwargs) -> None:
    """In the case's transaction: the sender's trace gets 04–06 with the change, or not at all."""
    services.report_case_progress(case, actor)
