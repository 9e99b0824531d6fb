"""The SMS channel: the console backend in development, Aliyun and Tencent Cloud through their official SDKs.

Each provider is stood in for by an HTTP server on 127.0.0.1 that answers SendSms as the real API does,
and the SDK is pointed at it with SMS_ENDPOINT=http://127.0.0.1:<port>.
"""

from __future__ import annotations

import io
import json
import socket
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import override_settings
from django.utils import timezone

from outbox import services, sms
from outbox.models import Message
from outbox.tests.loopback import LoopbackServer

TEMPLATES = {
    "events.booking_made": {
        "aliyun": "SMS_270000001",
        "tencent": {"code": "1900001", "params": ["activity", "time"]},
    }
}


class StandIn:
    """An SMS provider's API on loopback: records each request, answers with the next queued reply."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.replies: list[tuple[int, dict]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                stand_in.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length).decode()}
                )
                status, payload = stand_in.replies.pop(0) if stand_in.replies else (500, {})
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass  # nothing prints

        self.loopback = LoopbackServer(Handler)
        self.url = self.loopback.url

    def close(self) -> None:
        self.loopback.close()


@dataclass
class Provider:
    name: str
    ok: tuple[int, dict]
    throttled: tuple[int, dict]  # too many messages to this number: try again later
    invalid_number: tuple[int, dict]
    busy: tuple[int, dict]  # the provider is overloaded: the whole channel waits

    def received(self, request: dict) -> dict:
        """What the stand-in was asked to send: number, template, signature and parameters."""
        if self.name == "aliyun":  # RPC style: everything in the query string
            query = dict(parse_qsl(urlsplit(request["path"]).query))
            assert query.keys() >= {"PhoneNumbers", "SignName", "TemplateCode"}
            params = json.loads(query["TemplateParam"]) if "TemplateParam" in query else {}
            return {"to": query["PhoneNumbers"], "template": query["TemplateCode"], "sign": query["SignName"], "params": params}
        assert request["headers"]["X-TC-Action"] == "SendSms"
        body = json.loads(request["body"])
        assert body["SmsSdkAppId"] == "1400123456"
        return {
            "to": body["PhoneNumberSet"],
            "template": body["TemplateId"],
            "sign": body["SignName"],
            "params": body["TemplateParamSet"],
        }


def tencent_status(code: str, message: str) -> tuple[int, dict]:
    status = {"SerialNo": "", "PhoneNumber": "+8613812345678", "Fee": 0, "SessionContext": "", "IsoCode": "CN"}
    return 200, {"Response": {"SendStatusSet": [status | {"Code": code, "Message": message}], "RequestId": "req-1"}}


def tencent_error(code: str, message: str) -> tuple[int, dict]:
    return 200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req-1"}}


def aliyun(code: str, message: str) -> tuple[int, dict]:
    return 200, {"Code": code, "Message": message, "BizId": "900000000000000000^0" if code == "OK" else "", "RequestId": "req-1"}


ALIYUN = Provider(
    name="aliyun",
    ok=aliyun("OK", "OK"),
    throttled=aliyun("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控Permits:10"),
    invalid_number=aliyun("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
    busy=(
        503,
        {
            "Code": "ServiceUnavailable",
            "Message": "The request has failed due to a temporary failure of the server.",
            "RequestId": "req-1",
        },
    ),
)
TENCENT = Provider(
    name="tencent",
    ok=tencent_status("Ok", "send success"),
    throttled=tencent_status("LimitExceeded.PhoneNumberThirtySecondLimit", "单个手机号30秒内下发短信条数超过设定的上限"),
    invalid_number=tencent_status("InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误"),
    busy=tencent_error("RequestLimitExceeded", "请求的次数超过了频率限制。"),
)


@pytest.fixture(params=[ALIYUN, TENCENT], ids=["aliyun", "tencent"])
def provider(request, db):
    stand_in = StandIn()
    with override_settings(
        LINLI_SMS_BACKEND=request.param.name,
        LINLI_SMS_ENDPOINT=stand_in.url,
        LINLI_SMS_TEMPLATES=TEMPLATES,
        LINLI_SMS_SIGN_NAME="邻里",
        LINLI_SMS_ACCESS_KEY_ID="test-key-id",
        LINLI_SMS_ACCESS_KEY_SECRET="test-key-secret",
        LINLI_SMS_TENCENT_APP_ID="1400123456",
        LINLI_SMS_TIMEOUT=1,
    ):
        yield request.param, stand_in
    stand_in.close()


def queue_sms(number: int = 1, **fields) -> Message:
    values = {
        "kind": "events.booking_made",
        "address": "13812345678",
        "subject": "",
        "body": "【邻里】您已预约“太极拳”，12月6日 09:00。",
        "language": "zh-hans",
        "idempotency_key": f"test.sms:{number}",
        "channel": Message.Channel.SMS,
        "template_params": {"activity": "太极拳", "time": "12月6日 09:00"},
    }
    return services.queue_message(**(values | fields))


def time_passes() -> None:
    Message.objects.filter(status=Message.Status.PENDING).update(next_attempt_at=timezone.now())


def test_an_sms_reaches_the_provider_with_number_template_signature_and_parameters(provider):
    spec, stand_in = provider
    message = queue_sms()
    stand_in.replies.append(spec.ok)
    assert services.deliver_due() == 1
    (request,) = stand_in.requests
    received = spec.received(request)
    if spec.name == "aliyun":
        assert received == {
            "to": "13812345678",
            "template": "SMS_270000001",
            "sign": "邻里",
            "params": {"activity": "太极拳", "time": "12月6日 09:00"},
        }
    else:  # Tencent: E.164 numbers, parameters in the template's order
        assert received == {
            "to": ["+8613812345678"],
            "template": "1900001",
            "sign": "邻里",
            "params": ["太极拳", "12月6日 09:00"],
        }
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.sent_at is not None and message.last_error == ""


def test_a_throttled_number_leaves_the_message_pending_and_it_is_sent_after_the_backoff(provider):
    spec, stand_in = provider
    message = queue_sms()
    stand_in.replies.append(spec.throttled)
    assert services.deliver_due() == 0
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and message.attempts == 1
    assert message.next_attempt_at > timezone.now()
    assert ("BUSINESS_LIMIT_CONTROL" if spec.name == "aliyun" else "PhoneNumberThirtySecondLimit") in message.last_error
    time_passes()
    stand_in.replies.append(spec.ok)
    assert services.deliver_due() == 1
    assert len(stand_in.requests) == 2


def test_an_overloaded_provider_makes_the_batch_wait_without_asking_again_per_message(provider):
    spec, stand_in = provider
    for number in range(3):
        queue_sms(number, address=f"1381234567{number}")
    stand_in.replies.append(spec.busy)
    assert services.deliver_due() == 0
    assert len(stand_in.requests) == 1  # the channel is down for this batch: one request, not three
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.PENDING, 1)}
    time_passes()
    stand_in.replies.extend([spec.ok] * 3)
    assert services.deliver_due() == 3


def test_an_invalid_number_fails_at_once_and_visibly(provider):
    spec, stand_in = provider
    message = queue_sms(address="12345")
    stand_in.replies.append(spec.invalid_number)
    assert services.deliver_due() == 0
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.attempts == 1
    assert ("MOBILE_NUMBER_ILLEGAL" if spec.name == "aliyun" else "IncorrectPhoneNumber") in message.last_error
    time_passes()
    assert services.deliver_due() == 0 and len(stand_in.requests) == 1  # never tried again


def test_an_unapproved_template_fails_at_once(provider):
    spec, stand_in = provider
    message = queue_sms()
    if spec.name == "aliyun":
        stand_in.replies.append(aliyun("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"))
    else:
        stand_in.replies.append(tencent_error("FailedOperation.TemplateIncorrectOrUnapproved", "模版未审批或内容不匹配"))
    services.deliver_due()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert ("SMS_TEMPLATE_ILLEGAL" if spec.name == "aliyun" else "TemplateIncorrectOrUnapproved") in message.last_error


def test_a_kind_without_a_template_for_the_provider_fails_with_a_clear_error(provider):
    spec, stand_in = provider
    message = queue_sms(kind="events.session_cancelled")
    assert services.deliver_due() == 0
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and message.attempts == 1
    assert message.last_error == (
        f"No SMS template for 'events.session_cancelled' on {spec.name}: add its approved template code to SMS_TEMPLATES"
    )
    assert stand_in.requests == []


def test_a_provider_that_does_not_answer_costs_one_timeout_and_the_messages_wait(provider):
    spec, _stand_in = provider
    listener = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        for number in range(3):
            queue_sms(number)
        with override_settings(LINLI_SMS_ENDPOINT=f"http://127.0.0.1:{listener.getsockname()[1]}"):
            started = time.monotonic()
            assert services.deliver_due() == 0
            elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert elapsed < 3  # one SMS_TIMEOUT (1 s), not one per message
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.Status.PENDING, 1)}


@override_settings(
    LINLI_SMS_BACKEND="tencent",
    LINLI_SMS_TEMPLATES={"events.booking_made": {"tencent": "1900001"}},
    LINLI_SMS_ACCESS_KEY_ID="test-key-id",
    LINLI_SMS_ACCESS_KEY_SECRET="test-key-secret",
)
def test_a_tencent_template_with_several_parameters_needs_their_order(db):
    message = queue_sms()  # a JSON object's keys have no order in PostgreSQL: guessing could swap them
    services.deliver_due()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED and "needs its parameter order" in message.last_error


@override_settings(LINLI_SMS_BACKEND="console")
def test_the_console_backend_prints_the_text(db, capsys):
    queue_sms()
    assert services.deliver_due() == 1
    printed = capsys.readouterr().out
    assert "SMS to 13812345678 (events.booking_made)" in printed
    assert "【邻里】您已预约“太极拳”，12月6日 09:00。" in printed


def test_the_test_backend_keeps_the_message_and_its_parameters_as_text(db):
    queue_sms(template_params={"code": 123456})
    assert services.deliver_due() == 1
    assert sms.sent == [
        {"to": "13812345678", "kind": "events.booking_made", "params": {"code": "123456"}, "text": queue_sms().body}
    ]


@override_settings(LINLI_SMS_BACKEND="carrier-pigeon")
def test_an_unknown_backend_is_a_configuration_error_on_the_message(db):
    message = queue_sms()
    services.deliver_due()
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING and "SMS_BACKEND must be one of" in message.last_error


def test_numbers_are_written_as_each_provider_expects():
    assert sms.mainland_number("+86 138 1234 5678") == sms.mainland_number("13812345678") == "13812345678"
    assert sms.e164("13812345678") == sms.e164("+8613812345678") == "+8613812345678"
    assert sms.e164("+85291234567") == "+85291234567"


def test_console_output_is_one_block_per_message():
    stream = io.StringIO()
    console = sms.ConsoleSms(stream=stream)
    console.send(Message(kind="k", address="13812345678", body="Hi", template_params={}))
    assert stream.getvalue() == "SMS to 13812345678 (k) \nHi\n" + "-" * 79 + "\n"
