"""What the registry tells the apps above it, which subscribe without the registry importing them.

`document_issued` is sent once per outgoing or internal document, inside the transaction that makes it
final (registered with its files; on the digital path, once the sealed original is attached), with
`document` and `actor`. Receivers run in that transaction: what they write (deliveries to the recipients)
commits or rolls back with the issue."""

from __future__ import annotations

from django.dispatch import Signal

document_issued = Signal()
