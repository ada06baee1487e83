"""Two-factor helpers of the tests: a confirmed authenticator app for a person, and its codes."""

from __future__ import annotations

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrol(user) -> TOTPDevice:
    """A confirmed authenticator app (no audit event: made with the ORM, like the other fixtures)."""
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code_for(device: TOTPDevice, step: int = 0) -> str:
    """The code the app shows now (`step` time steps later: a code not used yet after one was accepted; the
    device accepts one step either side)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    totp.time = time.time() + step * device.step
    return f"{totp.token():0{device.digits}d}"


def verified_client(user, device: TOTPDevice) -> Client:
    """A logged-in client whose session passed the second factor."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
