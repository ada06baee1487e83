"""What the handling of incoming documents tells the apps above it (exchange reports it to the sender as
status codes 04–06), without importing them.

`incoming_case_changed` is sent inside the transaction of every recorded change of an incoming case, with
`case` (its `state` already the new one), `actor` and `verb` (the audit verb of the change)."""

from __future__ import annotations

from django.dispatch import Signal

incoming_case_changed = Signal()
