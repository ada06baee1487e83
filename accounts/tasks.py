"""Thin Celery tasks of accounts (routed in eoffice/celery.py): the password reset mail, sent by a worker."""

from __future__ import annotations

from celery import shared_task

from .password_reset import SEND_TASK, SEND_TO_TASK
from .password_reset import send_password_reset as _send_password_reset
from .password_reset import send_password_reset_to as _send_password_reset_to


@shared_task(name=SEND_TASK, acks_late=True, ignore_result=True)
def send_password_reset(email: str, language: str) -> int:
    return _send_password_reset(email, language)


@shared_task(name=SEND_TO_TASK, acks_late=True, ignore_result=True)
def send_password_reset_to(user_id: int, language: str) -> int:
    return _send_password_reset_to(user_id, language)
