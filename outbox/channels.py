"""How a message leaves: one backend per channel, each opened once per batch.

A backend's `send(message)` raises `ChannelDown` when the channel itself cannot be reached (the rest of
the batch then waits for the next attempt instead of each waiting for its own timeout); any other
exception fails only that message and is retried with backoff, except `PermanentFailure`, which marks the
message failed at once. SMS lives in `outbox/sms.py`, WeChat in `outbox/wechat.py`; `outbox/backends.py` says
which backend sends each channel.
"""

from __future__ import annotations

import json
import smtplib
import sys
import threading

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .models import Message


class ChannelDown(Exception):
    """The channel's server could not be reached or stopped answering."""


class PermanentFailure(Exception):
    """This message can never be delivered as it is (an invalid number, no approved template): failed at once."""


class EmailChannel:
    """SMTP (or whichever EMAIL_BACKEND is set: console in development, locmem in tests), one connection per batch."""

    # The server refused this one message; every other error (refused connection, EMAIL_TIMEOUT, a dropped
    # connection, failed log-in: all OSError) means the server itself is unavailable.
    refused = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)

    def __init__(self) -> None:
        self.connection = get_connection(fail_silently=False)
        self.opened = False

    def send(self, message: Message) -> None:
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers=message.headers or None,
            connection=self.connection,
        )
        for attachment in message.attachments:
            email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
        try:
            if not self.opened:
                self.connection.open()  # kept open for the whole batch
                self.opened = True
            email.send()
        except self.refused:
            raise
        except OSError as error:
            self.close()
            raise ChannelDown(f"{type(error).__name__}: {error}") from error

    def close(self) -> None:
        self.opened = False
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - a server that stopped answering may not answer QUIT either
            pass


class ConsoleChannel:
    """Development's backend for a channel: prints each message (who, kind, template parameters, text) to
    the console instead of sending it, one block at a time when several workers share the terminal."""

    label = ""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def send(self, message: Message) -> None:
        params = json.dumps(message.template_params, ensure_ascii=False) if message.template_params else ""
        with self.lock:
            self.stream.write(f"{self.label} to {message.address} ({message.kind}) {params}\n{message.body}\n{'-' * 79}\n")
            self.stream.flush()

    def close(self) -> None:
        pass
