"""The SMS channel: one provider chosen by settings.LINLI_SMS_BACKEND (README: Messages to people).

- "console" (development): prints each message's text to stdout, like Django's console mail backend;
- "locmem" (tests): keeps each message in `sent`;
- "aliyun": Alibaba Cloud SMS (dysmsapi 2017-05-25) through its official SDK;
- "tencent": Tencent Cloud SMS (2021-01-11) through its official SDK.

The providers send only pre-approved templates: each message kind has a template code per provider in
settings.LINLI_SMS_TEMPLATES, filled with the message's `template_params`. What the provider answers
decides what the outbox does: throttling of one number and unknown errors are retried with backoff; an
unreachable, overloaded (5xx), throttled or unpaid account is `ChannelDown` (the rest of the batch waits
too); an invalid number, an unapproved template or signature is a `PermanentFailure` (failed at once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .channels import ChannelDown, ConsoleChannel, PermanentFailure
from .models import Message

# The locmem backend's messages, oldest first (the tests empty it before each test).
sent: list[dict] = []


class ProviderError(Exception):
    """The provider refused this one message for now (e.g. too many messages to this number): retried later."""


@dataclass(frozen=True)
class Template:
    code: str
    # Parameter names in the template's order (Tencent numbers its parameters {1}, {2} …); None: all, by name.
    params: list[str] | None = None


def template_for(kind: str, provider: str) -> Template:
    """The provider's approved template for this message kind, or a `PermanentFailure` saying what is missing."""
    entry = settings.LINLI_SMS_TEMPLATES.get(kind, {}).get(provider)
    if isinstance(entry, str) and entry:
        return Template(code=entry)
    if isinstance(entry, dict) and entry.get("code"):
        return Template(code=str(entry["code"]), params=[str(name) for name in entry.get("params", [])])
    raise PermanentFailure(f"No SMS template for {kind!r} on {provider}: add its approved template code to SMS_TEMPLATES")


def mainland_number(address: str) -> str:
    """ "13812345678" from "13812345678", "+8613812345678" or "86 138 1234 5678"; other countries keep their code."""
    digits = "".join(character for character in address if character.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


def e164(address: str) -> str:
    number = mainland_number(address)
    return f"+86{number}" if len(number) == 11 and number.startswith("1") else f"+{number}"


def endpoint(default_host: str) -> tuple[str, str]:
    """("https", host) for settings.LINLI_SMS_ENDPOINT (default: the provider's public API); "http://…" for a stand-in."""
    configured = settings.LINLI_SMS_ENDPOINT.strip().rstrip("/")
    for scheme in ("http", "https"):
        if configured.startswith(f"{scheme}://"):
            return scheme, configured.removeprefix(f"{scheme}://")
    return "https", configured or default_host


class ConsoleSms(ConsoleChannel):
    label = "SMS"


class LocmemSms:
    def send(self, message: Message) -> None:
        sent.append({"to": message.address, "kind": message.kind, "params": dict(message.template_params), "text": message.body})


class AliyunSms:
    """Alibaba Cloud SMS: SendSms answers 200 with Code "OK", or 200 with the error code of this message."""

    # Error codes: https://help.aliyun.com/document_detail/101346.html
    permanent = {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.EXTEND_CODE_ERROR",
    }
    # The account, not the message: every message waits.
    account = {
        "Throttling.User",
        "Throttling",
        "isp.SYSTEM_ERROR",
        "isv.OUT_OF_SERVICE",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isp.RAM_PERMISSION_DENY",
        "InvalidAccessKeyId.NotFound",
        "SignatureDoesNotMatch",
    }
    name = "aliyun"

    def __init__(self) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        scheme, host = endpoint("dysmsapi.aliyuncs.com")
        timeout = settings.LINLI_SMS_TIMEOUT * 1000  # milliseconds
        self.client = Client(
            Config(
                access_key_id=settings.LINLI_SMS_ACCESS_KEY_ID,
                access_key_secret=settings.LINLI_SMS_ACCESS_KEY_SECRET,
                endpoint=host,
                protocol=scheme.upper(),
                region_id=settings.LINLI_SMS_REGION or "cn-hangzhou",
                connect_timeout=timeout,
                read_timeout=timeout,
            )
        )

    def classify(self, code: str, text: str) -> Exception:
        if code in self.permanent:
            return PermanentFailure(text)
        if code in self.account:
            return ChannelDown(text)
        return ProviderError(text)

    def send(self, message: Message) -> None:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
        from darabonba.exceptions import UnretryableException

        template = template_for(message.kind, self.name)
        params = message.template_params
        if template.params is not None:
            params = {name: params.get(name, "") for name in template.params}
        request = SendSmsRequest(
            phone_numbers=mainland_number(message.address),
            sign_name=settings.LINLI_SMS_SIGN_NAME,
            template_code=template.code,
            template_param=json.dumps(params, ensure_ascii=False) if params else None,
        )
        try:
            response = self.client.send_sms(request)
        except UnretryableException as error:  # refused, timed out, dropped: the SDK's own retries are off
            raise ChannelDown(f"Aliyun SMS unreachable: {error}") from error
        except AlibabaCloudException as error:  # an HTTP error status
            text = f"Aliyun SMS {error.code}: {error.message}"
            if isinstance(error, ThrottlingException) or (error.status_code or 500) >= 500:
                raise ChannelDown(text) from error
            raise self.classify(error.code, text) from error
        body = response.body
        if body.code != "OK":
            raise self.classify(body.code, f"Aliyun SMS {body.code}: {body.message}")

    def close(self) -> None:
        pass


class TencentSms:
    """Tencent Cloud SMS: SendSms answers 200 with an Error (the whole request) or a status per number."""

    # Error codes: https://cloud.tencent.com/document/product/382/55981
    permanent_prefixes = (
        "InvalidParameterValue.",
        "InvalidParameter.",
        "MissingParameter.",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.MissingSignature",
        "FailedOperation.MissingTemplate",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.PhoneNumberOnBlacklist",
        "FailedOperation.ContainSensitiveWord",
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        "UnsupportedOperation.",
    )
    account_prefixes = (
        "ClientNetworkError",
        "ServerNetworkError",
        "RequestLimitExceeded",
        "InternalError",
        "AuthFailure",
        "UnauthorizedOperation",
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "LimitExceeded.AppDailyLimit",
        "LimitExceeded.AppGlobalDailyLimit",
        "LimitExceeded.AppMainlandChinaDailyLimit",
        "LimitExceeded.AppCountryOrRegionDailyLimit",
        "LimitExceeded.DailyLimit",
    )
    name = "tencent"

    def __init__(self) -> None:
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111.sms_client import SmsClient

        scheme, host = endpoint("sms.tencentcloudapi.com")
        profile = ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=host, reqTimeout=settings.LINLI_SMS_TIMEOUT))
        credential = Credential(settings.LINLI_SMS_ACCESS_KEY_ID, settings.LINLI_SMS_ACCESS_KEY_SECRET)
        self.client = SmsClient(credential, settings.LINLI_SMS_REGION or "ap-guangzhou", profile)

    def classify(self, code: str, text: str) -> Exception:
        if code.startswith(self.account_prefixes):
            return ChannelDown(text)
        if code.startswith(self.permanent_prefixes):
            return PermanentFailure(text)
        return ProviderError(text)

    def send(self, message: Message) -> None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111.models import SendSmsRequest

        template = template_for(message.kind, self.name)
        names = template.params
        if names is None:
            if len(message.template_params) > 1:  # a JSON object's keys have no order in PostgreSQL
                raise PermanentFailure(
                    f"The Tencent template for {message.kind!r} needs its parameter order: "
                    'write {"code": …, "params": [names in order]} in SMS_TEMPLATES'
                )
            names = list(message.template_params)
        request = SendSmsRequest()
        request.PhoneNumberSet = [e164(message.address)]
        request.SmsSdkAppId = settings.LINLI_SMS_TENCENT_APP_ID
        request.SignName = settings.LINLI_SMS_SIGN_NAME
        request.TemplateId = template.code
        request.TemplateParamSet = [message.template_params.get(name, "") for name in names]
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as error:
            message_text = error.message.decode(errors="replace") if isinstance(error.message, bytes) else error.message
            raise self.classify(error.code or "", f"Tencent SMS {error.code}: {message_text}"[:300]) from error
        (status,) = response.SendStatusSet
        if status.Code != "Ok":
            raise self.classify(status.Code, f"Tencent SMS {status.Code}: {status.Message}")

    def close(self) -> None:
        pass


PROVIDERS = {"console": ConsoleSms, "locmem": LocmemSms, "aliyun": AliyunSms, "tencent": TencentSms}


class SmsChannel:
    """The outbox's SMS backend: the configured provider, created once per batch."""

    def __init__(self) -> None:
        provider = PROVIDERS.get(settings.LINLI_SMS_BACKEND)
        if provider is None:
            raise ImproperlyConfigured(f"SMS_BACKEND must be one of {', '.join(PROVIDERS)}, not {settings.LINLI_SMS_BACKEND!r}")
        self.provider = provider()

    def send(self, message: Message) -> None:
        self.provider.send(message)

    def close(self) -> None:
        pass
