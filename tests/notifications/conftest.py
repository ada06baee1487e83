"""Fixtures of the notification tests: a kind of our own (its text already has a Vietnamese translation), a
real SMTP server on loopback (aiosmtpd) that keeps what it receives, and helpers to tell and fan out."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
from django.test import override_settings
from django.utils.translation import gettext_lazy

from eoffice import notices

KIND = "tests.draft_waits"
# A msgid the Vietnamese catalogue translates (workflows' draft review notice), so the language tests see both
# languages.
notices.register_kind(KIND, "A draft waits (tests)", gettext_lazy('Draft "%(subject)s" waits for your review.'))
QUIET = "tests.quiet"
notices.register_kind(QUIET, "Quiet (tests)", "Quiet %(subject)s", email=False)


class _Keep:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler protocol
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1; Django's SMTP backend sends to it. Yields the list of received
    (recipients, email.message.EmailMessage)."""
    from aiosmtpd.controller import Controller

    keeper = _Keep()
    port = _free_port()
    controller = Controller(keeper, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                               EMAIL_PORT=port, EMAIL_USE_TLS=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD=""):
            yield keeper.messages
    finally:
        controller.stop()
