"""A corpus of real-world and hostile e-mail, generated here (never read from the project's .eml files).

Each `Case` is one kind of message the issue names (its number in `item`), the raw bytes of
one or more messages, and what the mailbox must make of them. `bench/mailbox.py` times the
parsing of the same corpus.
"""

from __future__ import annotations

import base64
import io
import os
import quopri
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid

from PIL import Image

MAILBOX = "liuhe@mailbox.linli.localhost"
OUR_SERVER = "mx.linli.example"
RESIDENT = "anna@example.com"  # a verified resident in the tests that use her
DATE = "Tue, 24 Nov 2026 08:30:00 +0800"


def b64(text: str, charset: str = "utf-8") -> str:
    return base64.b64encode(text.encode(charset)).decode()


def word(text: str, charset: str = "utf-8", label: str | None = None) -> str:
    return f"=?{label or charset}?B?{b64(text, charset)}?="


def raw_message(
    *,
    sender: str,
    subject: str | None = "",
    body: bytes | str = "",
    charset: str | None = "utf-8",
    headers: tuple[str, ...] = (),
    message_id: str | None = None,
    content_type: str = "text/plain",
    encoding: str = "base64",
    date: str = DATE,
) -> bytes:
    """One single-part message as raw bytes; `subject` is written as given (encode it yourself)."""
    data = body if isinstance(body, bytes) else body.encode(charset or "utf-8")
    lines = [f"From: {sender}", f"To: {MAILBOX}", f"Date: {date}", "MIME-Version: 1.0"]
    if message_id is not False:
        lines.append(f"Message-ID: {message_id or make_msgid(domain='example.cn')}")
    if subject is not None:
        lines.append(f"Subject: {subject}")
    lines += list(headers)
    lines.append(f"Content-Type: {content_type}" + (f"; charset={charset}" if charset else ""))
    lines.append(f"Content-Transfer-Encoding: {encoding}")
    if encoding == "base64":
        payload = base64.encodebytes(data)
    elif encoding == "quoted-printable":
        payload = quopri.encodestring(data)
    else:
        payload = data
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload.replace(b"\n", b"\r\n")


def photo(kind: str = "JPEG", size: tuple[int, int] = (640, 480), noise: bool = False, quality: int = 90) -> bytes:
    """A photo with a camera's EXIF (maker and orientation), as a phone sends it."""
    if kind == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, (40, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15"
    out = io.BytesIO()
    image.save(out, format=kind, quality=quality, exif=exif.tobytes())
    return out.getvalue()


def with_attachments(*, sender: str, subject: str, text: str, attachments: list[tuple[str, str, bytes]], **extra) -> bytes:
    """multipart/mixed built with the standard library: (content type, file name, data)."""
    message = EmailMessage()
    message["From"], message["To"], message["Date"], message["Subject"] = sender, MAILBOX, DATE, subject
    message["Message-ID"] = make_msgid(domain="example.cn")
    if text:
        message.set_content(text)
    for content_type, filename, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


@dataclass
class Case:
    """One kind of message: `outcomes` lists, per message, the IncomingMail outcome (and reason)."""

    name: str
    item: int
    messages: list[bytes]
    outcomes: list[str]  # "letter", "automatic", "reply", "duplicate" or "quarantined:<reason>"
    subject: str = ""  # the letter's subject, when it becomes one
    text: str = ""  # the start of the letter's text
    photos: int = 0
    notes: dict = field(default_factory=dict)


def _many_parts(sender: str, count: int) -> bytes:
    parts = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {number}\r\n" for number in range(count))
    return (
        f"From: {sender}\r\nTo: {MAILBOX}\r\nDate: {DATE}\r\nSubject: parts\r\n"
        f"Content-Type: multipart/mixed; boundary=b\r\n\r\n{parts}--b--\r\n"
    ).encode()


def _nul_file_name(sender: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {MAILBOX}\r\nDate: {DATE}\r\nSubject: {word('楼道堆物')}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=x\r\n\r\n"
        "--x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{b64('三楼楼道堆满纸箱，请处理。')}\r\n"
        "--x\r\nContent-Type: application/pdf\r\n"
        "Content-Disposition: attachment; filename*=utf-8''%E6%8A%A5%E5%91%8A%00%01.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n"
        "--x\r\nContent-Type: image/png\r\n"
        f"Content-Disposition: attachment; filename*=utf-8''{'a' * 400}%00.png\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--x--\r\n"
    ).encode()


def _alternative_with_empty_text(sender: str) -> bytes:
    html = "<html><body><p>小区东门的路灯坏了三天。</p><p>晚上很黑。</p></body></html>"
    return (
        f"From: {sender}\r\nTo: {MAILBOX}\r\nDate: {DATE}\r\nSubject: {word('路灯不亮')}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=alt\r\n\r\n"
        "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\r\n"
        f"--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64(html)}\r\n--alt--\r\n"
    ).encode()


def _gbk_split(text: str, at: int) -> str:
    data = text.encode("gbk")
    return f"=?gbk?B?{base64.b64encode(data[:at]).decode()}?=\r\n =?gbk?B?{base64.b64encode(data[at:]).decode()}?="


def _utf8_split(text: str, at: int) -> str:
    data = text.encode()
    return f"=?utf-8?B?{base64.b64encode(data[:at]).decode()}?= =?utf-8?B?{base64.b64encode(data[at:]).decode()}?="


def authentication(verdict: str) -> str:
    return f"Authentication-Results: {OUR_SERVER}; spf=pass smtp.mailfrom=example.com; {verdict} header.from=example.com"


def corpus() -> list[Case]:
    """Every kind of message of issue 13, each from its own sender (so that the flood limit meets only the flood)."""

    def s(name: str) -> str:
        return f"{name.replace('_', '.')}@example.cn"

    cases = [
        # 1. Poison messages: stored or quarantined, never stopping the run.
        Case(
            "long_sender",
            1,
            [raw_message(sender="x" * 290 + "@example.cn", subject="long", body="长地址")],
            ["quarantined:invalid_sender"],
        ),
        Case(
            "not_an_address",
            1,
            [raw_message(sender="居民 <not an address>", subject="x", body="没有地址")],
            ["quarantined:invalid_sender"],
        ),
        Case("nul_in_file_names", 1, [_nul_file_name(s("nul"))], ["letter"], subject="楼道堆物", text="三楼楼道堆满纸箱"),
        # 2. CPU and flood limits.
        Case("five_thousand_parts", 2, [_many_parts(s("parts"), 5000)], ["quarantined:too_many_parts"]),
        Case("two_hundred_fifty_parts", 2, [_many_parts(s("parts250"), 250)], ["quarantined:too_many_parts"]),
        Case(
            "flood",
            2,
            [raw_message(sender=s("flood"), subject=f"flood {number}", body=f"第{number}封") for number in range(8)],
            ["letter"] * 5 + ["quarantined:flood"] * 3,
        ),
        # 3. Headers.
        Case(
            "gbk_characters_labelled_gb2312",
            3,
            [
                raw_message(
                    sender=f"{word('张喆', 'gbk', 'gb2312')} <{s('zhe')}>",
                    subject=word("堃园小区停车", "gbk", "gb2312"),
                    body="喆".encode("gbk"),
                    charset="gb2312",
                )
            ],
            ["letter"],
            subject="堃园小区停车",
            text="喆",
        ),
        Case(
            "gbk_character_split_across_words",
            3,
            [raw_message(sender=s("gbksplit"), subject=_gbk_split("电梯维修", 3), body="电梯坏了")],
            ["letter"],
            subject="电梯维修",
            text="电梯坏了",
        ),
        Case(
            "utf8_character_split_across_words",
            3,
            [raw_message(sender=s("utf8split"), subject=_utf8_split("垃圾清运", 4), body="垃圾没人收")],
            ["letter"],
            subject="垃圾清运",
            text="垃圾没人收",
        ),
        Case(
            "unterminated_encoded_word",
            3,
            [raw_message(sender=s("unterminated"), subject=f"=?utf-8?B?{b64('噪音扰民')}", body="夜里很吵")],
            ["letter"],
            subject="噪音扰民",
        ),
        Case(
            "bad_base64_padding",
            3,
            [
                raw_message(
                    sender=s("padding"),
                    subject=f"=?utf-8?B?{b64('井盖松动').rstrip('=')}?= =?utf-8?B?{b64('了')}==?=",
                    body="井盖响",
                )
            ],
            ["letter"],
            subject="井盖松动了",
        ),
        Case(
            "charset_x_gbk",
            3,
            [
                raw_message(
                    sender=s("xgbk"), subject=word("绿化带", "gbk", "x-gbk"), body="绿化带被占".encode("gbk"), charset="x-gbk"
                )
            ],
            ["letter"],
            subject="绿化带",
            text="绿化带被占",
        ),
        Case(
            "charset_chinese",
            3,
            [
                raw_message(
                    sender=s("chinese"), subject=word("堃", "gbk", "chinese"), body="喆堃".encode("gbk"), charset="chinese"
                )
            ],
            ["letter"],
            subject="堃",
            text="喆堃",
        ),
        # 4. Bodies.
        Case(
            "big5_without_label",
            4,
            [
                raw_message(
                    sender=s("big5"), subject="Big5", body="夜間施工噪音，工地每晚十一點後還在打樁。".encode("big5"), charset=None
                )
            ],
            ["letter"],
            text="夜間施工噪音，工地每晚十一點後還在打樁。",
        ),
        Case(
            "windows_1252_labelled_utf8",
            4,
            [
                raw_message(
                    sender=s("cafe"),
                    subject="The café",
                    body="The café on the corner is noisy.".encode("cp1252"),
                    charset="utf-8",
                    encoding="8bit",
                )
            ],
            ["letter"],
            text="The café on the corner is noisy.",
        ),
        Case(
            "utf8_bom_without_subject",
            4,
            [raw_message(sender=s("bom"), subject=None, body="\ufeff充电桩申请\n小区能否安装充电桩？")],
            ["letter"],
            subject="充电桩申请",
            text="充电桩申请",
        ),
        # 5. Parts.
        Case(
            "alternative_with_empty_text_part",
            5,
            [_alternative_with_empty_text(s("alt"))],
            ["letter"],
            subject="路灯不亮",
            text="小区东门的路灯坏了三天。",
        ),
        Case(
            "subject_only",
            5,
            [raw_message(sender=s("subjectonly"), subject=word("楼下垃圾桶满了"), body="")],
            ["letter"],
            subject="楼下垃圾桶满了",
            text="楼下垃圾桶满了",
        ),
        Case(
            "empty_body_with_subject",
            5,
            [raw_message(sender=s("emptybody"), subject=word("请修水管"), body="\r\n\r\n")],
            ["letter"],
            subject="请修水管",
            text="请修水管",
        ),
        Case(
            "photo_only",
            5,
            [with_attachments(sender=s("photoonly"), subject="", text="", attachments=[("image/jpeg", "IMG_0001.jpg", photo())])],
            ["letter"],
            subject="Photos sent by e-mail",
            photos=1,
        ),
        Case("nothing_at_all", 5, [raw_message(sender=s("nothing"), subject="", body="")], ["quarantined:empty"]),
        # 6. Photos.
        Case(
            "heic_photo",
            6,
            [
                with_attachments(
                    sender=s("heic"),
                    subject="坑洼",
                    text="路面坑洼",
                    attachments=[("image/heic", "IMG_0002.HEIC", photo("HEIF"))],
                )
            ],
            ["letter"],
            photos=1,
        ),
        Case(
            "jpeg_over_8_mb",
            6,
            [
                with_attachments(
                    sender=s("bigjpeg"),
                    subject="大照片",
                    text="原图",
                    attachments=[("image/jpeg", "IMG_0003.JPG", photo(size=(2700, 2700), noise=True, quality=97))],
                )
            ],
            ["letter"],
            photos=1,
        ),
        # 7. Forged senders (anna@example.com is a verified resident where the tests say so).
        Case(
            "forged_resident",
            7,
            [
                raw_message(
                    sender=f"Anna <{RESIDENT}>",
                    subject="Forged",
                    body="Not from Anna.",
                    headers=(authentication("dkim=none; dmarc=fail"),),
                )
            ],
            ["letter"],
            notes={"account": False},
        ),
        # 8. Automatic mail and spam.
        Case(
            "out_of_office_zidong_huifu",
            8,
            [raw_message(sender=s("ooo1"), subject=word("自动回复：我这周休假"), body="我这周休假。")],
            ["automatic"],
        ),
        Case(
            "out_of_office_zidong_dafu",
            8,
            [raw_message(sender=s("ooo2"), subject=word("自动答复: 您的来信"), body="已收到。")],
            ["automatic"],
        ),
        Case(
            "out_of_office_automatic_reply",
            8,
            [raw_message(sender=s("ooo3"), subject="Automatic reply: your letter", body="I am away.")],
            ["automatic"],
        ),
        Case(
            "out_of_office_english",
            8,
            [raw_message(sender=s("ooo4"), subject="Out of Office: back on Monday", body="Away.")],
            ["automatic"],
        ),
        Case(
            "spam_flag",
            8,
            [
                raw_message(
                    sender=s("spam"),
                    subject="Win a prize",
                    body="Click here",
                    headers=("X-Spam-Flag: YES", "X-Spam-Status: Yes, score=12.1"),
                )
            ],
            ["quarantined:spam"],
        ),
        # 9. Two different messages sharing one Message-ID.
        Case(
            "message_id_collision",
            9,
            [
                raw_message(sender=s("collide"), subject="第一封", body="第一封信", message_id="<same@example.cn>"),
                raw_message(sender=s("collide2"), subject="第二封", body="第二封信", message_id="<same@example.cn>"),
            ],
            ["letter", "letter"],
        ),
        # 10. One message seen twice without a Message-ID (a moved mailbox: another UID, added headers).
        Case(
            "moved_without_message_id",
            10,
            [
                raw_message(sender=s("moved"), subject="搬家", body="没有Message-ID", message_id=False),
                b"Received: from new.example by mx; Tue, 24 Nov 2026 09:00:00 +0800\r\n"
                + raw_message(sender=s("moved"), subject="搬家", body="没有Message-ID", message_id=False),
            ],
            ["letter", "duplicate"],
        ),
    ]
    return cases
