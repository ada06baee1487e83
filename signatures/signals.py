"""Every PDF attached to a document (and to whatever an app above connects, such as draft versions) is
verified: listening keeps the apps that store files free of any dependency on this app."""

from __future__ import annotations


def verify_attached_pdf(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from .verifying import request_verification

        request_verification(instance.blob)
