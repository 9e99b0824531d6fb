"""Which backend sends each channel: e-mail here, SMS and WeChat from their own modules, loaded only where a
message of theirs is sent (their providers' SDKs are heavy). They build on `outbox/channels.py`."""

from __future__ import annotations

from .channels import EmailChannel
from .models import Message


def sms_channel():
    from .sms import SmsChannel

    return SmsChannel()


def wechat_channel():
    from .wechat import wechat_channel

    return wechat_channel()


BACKENDS = {Message.Channel.EMAIL: EmailChannel, Message.Channel.SMS: sms_channel, Message.Channel.WECHAT: wechat_channel}
