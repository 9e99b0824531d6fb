"""Reading letters sent by e-mail: MIME parsing that survives real-world Chinese mail and hostile mail.

Chinese mail clients label GBK text as GB2312, split one character across two encoded-words,
put raw GBK bytes in headers, send HTML only, and attach anything; strangers send mail built
to hurt (thousands of parts, NUL bytes in file names, 300-character addresses). Headers and
bodies are decoded here by our own rules (the standard library's lenient decoders give mojibake
or raw `=?utf-8?B?...?=`); what cannot become a letter raises `MalformedMessage` with a
reason, and the fetcher quarantines the raw source.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import email.utils
import functools
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_TEXT_CHARS = 20_000
MAX_RAW_BYTES = 25 * 1024 * 1024  # the default of settings.LINLI_MAILBOX_MAX_BYTES
MAX_PARTS = 200
MAX_IMAGES = 3
MAX_FILENAME_CHARS = 100
MAX_ADDRESS_CHARS = 254

# Labels that mean "some superset of GB2312" in practice: GB18030 decodes all of them.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "windows-936": "gb18030",
    "ms936": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "gb_2312-80": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "iso-8859-1": "cp1252",  # what "Latin-1" mail really is (HTML5 maps it the same way)
    "latin1": "cp1252",
}
_FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5hkscs", "cp1252")
_AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_AUTOMATIC_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply)([+-].*)?@", re.IGNORECASE
)
# Out-of-office replies from clients that set no Auto-Submitted header (Foxmail, old Outlook, webmail).
_AUTOMATIC_SUBJECTS = re.compile(
    r"^\s*(?:(?:re|aw|答复|回复)\s*[:：]\s*)*"
    r"(?:自动回复|自动答复|自動回覆|自動回复|自动应答|auto(?:matic)?[ -]?reply|auto[ -]?response|autoreply"
    r"|out of (?:the )?office|abwesenheitsnotiz|réponse automatique|auto:)",
    re.IGNORECASE,
)


class MalformedMessage(Exception):
    """The message cannot become a letter; `reason` says why in one word (IncomingMail.Reason)."""

    def __init__(self, message: str, *, reason: str = "unreadable") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    recipients: list[str]
    automatic: bool
    spam: bool = False
    images: list[Attachment] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # names of attachments not kept
    authentication_results: list[str] = field(default_factory=list)  # the raw Authentication-Results values
    from_headers: int = 1  # RFC 5322 allows one; two can be read differently by two programs
    references: list[str] = field(default_factory=list)  # In-Reply-To and References, without <>

    @property
    def language(self) -> str:
        """zh-hans when the letter is written in Chinese, else en (for the acknowledgement)."""
        sample = f"{self.subject} {self.text[:500]}"
        han = sum(1 for char in sample if "\u4e00" <= char <= "\u9fff")
        return "zh-hans" if han >= 2 else "en"


# --- Bytes to text ------------------------------------------------------------------------------


def _codec(label: str | None) -> str | None:
    """The codec to read a charset label with: gb2312 and friends as GB18030, unknown labels as None."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower().split("*", 1)[0]  # RFC 2231 may add a language: utf-8*zh
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


@functools.cache
def _common_han() -> frozenset[str]:
    """The ideographs of GB2312 and Big5: what Chinese text is nearly all made of."""
    chars = set()
    for codec, leads, trails in (
        ("gb2312", range(0xB0, 0xF8), range(0xA1, 0xFF)),
        ("big5", range(0xA4, 0xFA), [*range(0x40, 0x7F), *range(0xA1, 0xFF)]),
    ):
        for lead in leads:
            for trail in trails:
                try:
                    char = bytes((lead, trail)).decode(codec)
                except UnicodeDecodeError:
                    continue
                if "\u3400" <= char <= "\u9fff":
                    chars.add(char)
    return frozenset(chars)


def _badness(text: str) -> int:
    """How unlike real text a decoding looks: private-use and replacement characters, C1 controls,
    kana, Greek or box drawing amid Chinese (GB18030 reading Big5), rare ideographs, accented Latin."""
    common = _common_han()
    bad = 0
    for char in text[:4000]:
        code = ord(char)
        if code < 0x80 or char in common:
            continue
        if char == "\ufffd" or 0xE000 <= code <= 0xF8FF or code >= 0xF0000 or 0x80 <= code <= 0x9F:
            bad += 10
        elif 0x2000 <= code <= 0x206F or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF:
            continue  # punctuation, CJK and full-width punctuation
        elif 0x3400 <= code <= 0x9FFF or 0x20000 <= code <= 0x3FFFF:
            bad += 1  # a real but rare ideograph (堃, 𠮷) or a misreading
        else:
            bad += 2
    return bad


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text from bytes in a declared (often wrong) charset.

    Valid UTF-8 is UTF-8 (a byte-order mark dropped). Otherwise the declared charset, GB18030,
    Big5 and Windows-1252 are each tried and the decoding that looks most like text wins
    (`_badness`), the declared one on a tie; Windows-1252 never fails, so nothing is lost to
    replacement characters unless every reading fails.
    """
    if not data:
        return ""
    if data.isascii():
        return data.decode("ascii")
    declared = _codec(charset)
    candidates = [declared] if declared else []
    candidates += [name for name in _FALLBACK_CHARSETS if name not in candidates]
    best: tuple[int, str] | None = None
    for name in candidates:
        try:
            text = data.decode("utf-8-sig" if name == "utf-8" else name)
        except (LookupError, UnicodeDecodeError):
            continue
        if name == "utf-8":
            return text  # non-ASCII bytes that are valid UTF-8 are, in practice, never anything else
        bad = _badness(text)
        if bad == 0:
            return text
        if best is None or bad < best[0]:
            best = (bad, text)
    return best[1] if best else data.decode("utf-8", errors="replace")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufeff\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ud800-\udfff]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)(?:\?=|(?=\s)|$)")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        text = re.sub(r"[^A-Za-z0-9+/]", "", text)  # padding is added back below, wrong or missing
        if len(text) % 4 == 1:
            text = text[:-1]
        return base64.b64decode(text + "=" * (-len(text) % 4))
    return binascii.a2b_qp(text.encode("ascii", errors="ignore"), header=True)


def decode_header_value(value: str | bytes) -> str:
    """A header value as text, RFC 2047 decoded by our own rules, raw 8-bit bytes recovered.

    Adjacent encoded-words of one charset are joined before decoding (clients split a GBK or
    UTF-8 character across two), gb2312/gbk/chinese/… are read as GB18030, a final word without
    its `?=` and base64 with wrong or missing padding are read anyway; unknown charsets are guessed.
    """
    if isinstance(value, str):
        value = value.encode("ascii", errors="surrogateescape") if not value.isascii() else value.encode()
    text = re.sub(rb"\r?\n(?=[ \t])", b"", value).decode("ascii", errors="surrogateescape")
    pieces: list[tuple[str | None, bytes]] = []  # (charset or None for plain text, bytes)
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        if between and not (between.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, between.encode("ascii", errors="surrogateescape")))
        position = match.end()
        charset, encoding, encoded = match.groups()
        try:
            data = _word_bytes(encoding, encoded)
        except (binascii.Error, ValueError):
            pieces.append((None, match.group(0).encode("ascii", errors="surrogateescape")))
            continue
        label = charset.lower().split("*", 1)[0]
        if pieces and pieces[-1][0] == label:
            pieces[-1] = (label, pieces[-1][1] + data)
        else:
            pieces.append((label, data))
    if position < len(text):
        pieces.append((None, text[position:].encode("ascii", errors="surrogateescape")))
    decoded = "".join(decode_bytes(data, label) for label, data in pieces)
    return " ".join(_CONTROL.sub(" ", decoded).split())


def clean_text(text: str) -> str:
    """Text that every database stores: no NUL, lone surrogates or control characters but newlines and tabs."""
    return _CONTROL_IN_TEXT.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_filename(name: str) -> str:
    """An attachment's name as shown to staff: decoded, without control characters or folders, capped."""
    if any("\udc80" <= char <= "\udcff" for char in name) or "=?" in name:
        name = decode_header_value(name)
    name = _CONTROL.sub("", name).replace("/", "_").replace("\\", "_").strip(" .")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        name = (
            (stem[: MAX_FILENAME_CHARS - 12] + "…." + extension[:10])
            if dot and len(extension) <= 10
            else name[:MAX_FILENAME_CHARS]
        )
    return name


class _TextFromHtml(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol"}
    SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextFromHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", errors="surrogateescape")
    text = clean_text(decode_bytes(payload, part.get_param("charset") or None))
    return html_to_text(text) if part.get_content_type() == "text/html" else text


# --- The message --------------------------------------------------------------------------------


class _Headers:
    """A message's headers as our own decoding reads them (the parser's compat32 keeps the raw values)."""

    def __init__(self, message: Message) -> None:
        self.raw: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self.raw.setdefault(name.lower(), []).append(value if isinstance(value, str) else str(value))

    def text(self, name: str) -> str:
        values = self.raw.get(name.lower())
        return decode_header_value(values[0]) if values else ""

    def ascii(self, name: str) -> str:
        """An ASCII header (Message-ID, Auto-Submitted …), unfolded; anything else in it dropped."""
        values = self.raw.get(name.lower())
        if not values:
            return ""
        return " ".join(values[0].encode("ascii", errors="ignore").decode().split())

    def all(self, name: str) -> list[str]:
        return [" ".join(value.encode("ascii", errors="ignore").decode().split()) for value in self.raw.get(name.lower(), [])]

    def count(self, name: str) -> int:
        return len(self.raw.get(name.lower(), []))


def _sender(headers: _Headers) -> tuple[str, str]:
    """(name, address) of From:, the address checked: a real address of at most 254 characters."""
    values = headers.raw.get("from")
    if not values:
        raise MalformedMessage("no sender address", reason="invalid_sender")
    raw_value = re.sub(r"\r?\n(?=[ \t])", "", values[0])
    name, address = email.utils.parseaddr(raw_value)
    if not address:
        found = re.search(r"<([^<>\s]+@[^<>\s]+)>|([^\s<>\"]+@[^\s<>\"]+)", raw_value)
        address = (found.group(1) or found.group(2)) if found else ""
        name = raw_value[: found.start()] if found else ""
    address = address.strip().strip("<>").lower()
    if not address or "@" not in address:
        raise MalformedMessage("no sender address", reason="invalid_sender")
    if len(address) > MAX_ADDRESS_CHARS or not address.isascii():
        raise MalformedMessage(f"sender address not usable ({len(address)} characters)", reason="invalid_sender")
    try:
        validate_email(address)
    except ValidationError as error:
        raise MalformedMessage(f"invalid sender address {address[:80]!r}", reason="invalid_sender") from error
    name = decode_header_value(name).strip().strip('"').strip()
    return name[:60], address


def _message_ids(value: str) -> list[str]:
    return re.findall(r"<([^<>\s]{1,250})>", value)


def is_automatic(headers: _Headers, *, sender: str, subject: str, content_type: str) -> bool:
    """Auto-replies, bounces and list traffic: never acknowledged (mail loops, spam to strangers)."""
    auto_submitted = headers.ascii("Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if headers.ascii("Precedence").lower() in _AUTOMATIC_PRECEDENCE:
        return True
    if any(headers.count(name) for name in ("List-Id", "List-Unsubscribe", "List-Post", "X-Autoreply", "X-Autorespond")):
        return True
    if content_type == "multipart/report":
        return True
    if headers.ascii("Return-Path").strip() == "<>":
        return True
    return bool(_AUTOMATIC_SENDERS.match(sender) or _AUTOMATIC_SUBJECTS.match(subject))


def is_spam(headers: _Headers) -> bool:
    """Marked as spam by a filter on the way in (SpamAssassin, rspamd, most hosted mail)."""
    return headers.ascii("X-Spam-Flag").upper().startswith("YES") or headers.ascii("X-Spam-Status").upper().startswith("YES")


def content_hash(raw: bytes) -> str:
    """The same message, whatever folder, server or UID it is read from: sender, date, subject and body.

    Two different messages sharing a Message-ID differ here; one message copied to a new
    mailbox (new UIDs, added Received: headers, CRLF or LF) does not.
    """
    blank = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[: blank.start()], raw[blank.end() :]) if blank else (raw, b"")
    digest = hashlib.sha256()
    for name in (b"from", b"date", b"subject"):
        found = re.search(rb"(?im)^" + name + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)", head)
        digest.update(b" ".join(found.group(1).split()) if found else b"")
        digest.update(b"\0")
    digest.update(body.replace(b"\r\n", b"\n").rstrip())
    return digest.hexdigest()


def parse_message(raw: bytes, *, max_bytes: int = MAX_RAW_BYTES) -> ParsedMail:
    """Turn one raw RFC 5322 message into what a letter needs; raise MalformedMessage if it cannot be read.

    Cheap checks come first, so that no message costs more than a moment: the size, then an upper
    bound of its MIME parts (lines that start with "--") before the parser runs, then the parts.
    """
    _check_size(raw, max_bytes=max_bytes)
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as error:  # noqa: BLE001  (the parser should not raise, but any failure means quarantine)
        raise MalformedMessage(f"unparseable: {error}") from error
    headers = _Headers(message)
    sender_name, sender = _sender(headers)
    body = _read_body(message)
    subject = headers.text("Subject")
    return ParsedMail(
        message_id=headers.ascii("Message-ID").strip()[:255],
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text=body.text(),
        recipients=_recipients(headers),
        automatic=is_automatic(headers, sender=sender, subject=subject, content_type=message.get_content_type()),
        spam=is_spam(headers),
        images=body.images,
        dropped=body.dropped,
        authentication_results=headers.all("Authentication-Results"),
        from_headers=headers.count("From"),
        references=_message_ids(" ".join([headers.ascii("In-Reply-To"), headers.ascii("References")]))[-20:],
    )


def _check_size(raw: bytes, *, max_bytes: int) -> None:
    """Refuse, before parsing, a message that is too large or has too many parts to be a letter."""
    if len(raw) > max_bytes:
        raise MalformedMessage(f"message of {len(raw)} bytes is larger than {max_bytes}", reason="too_large")
    delimiters = raw.count(b"\n--")  # every part starts after a delimiter line "--boundary"
    if delimiters > 3 * MAX_PARTS:
        raise MalformedMessage(f"more than {MAX_PARTS} MIME parts ({delimiters} delimiter lines)", reason="too_many_parts")


def _recipients(headers: _Headers) -> list[str]:
    """Every address the message was sent to (To, Cc and the delivery headers), lower case."""
    fields = [headers.ascii(name) for name in ("To", "Cc", "Delivered-To", "X-Original-To") if headers.count(name)]
    return [address.lower() for _name, address in email.utils.getaddresses(fields) if "@" in address]


@dataclass
class _Body:
    """What the parts of a message hold: its text (plain and HTML parts), its pictures, what was left out."""

    text_parts: list[str] = field(default_factory=list)
    html_parts: list[str] = field(default_factory=list)
    images: list[Attachment] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def add(self, part) -> None:
        """One leaf part: a picture, a text, a report to skip, or something dropped (named in `dropped`)."""
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = clean_filename(part.get_filename() or "")
        if content_type.startswith("image/") and (disposition in ("attachment", "inline") or filename):
            self.add_image(part, content_type=content_type, filename=filename)
        elif disposition == "attachment" or (filename and content_type not in ("text/plain", "text/html")):
            self.dropped.append(filename or content_type)
        elif content_type == "text/plain":
            self.text_parts.append(_part_text(part))
        elif content_type == "text/html":
            self.html_parts.append(_part_text(part))
        elif content_type not in ("message/delivery-status", "message/rfc822", "text/rfc822-headers"):
            self.dropped.append(filename or content_type)

    def add_image(self, part, *, content_type: str, filename: str) -> None:
        data = part.get_payload(decode=True) or b""
        if len(self.images) < MAX_IMAGES and isinstance(data, bytes) and data:
            self.images.append(
                Attachment(filename=filename or f"image{len(self.images) + 1}", content_type=content_type, data=data)
            )
        else:
            self.dropped.append(filename or content_type)

    def text(self) -> str:
        """The plain parts' text; a multipart/alternative whose text part is empty still has its HTML part."""
        plain = [part.strip() for part in self.text_parts if part.strip()]
        text = "\n\n".join(plain or [part.strip() for part in self.html_parts if part.strip()])
        return text[:MAX_TEXT_CHARS] + "\n[…]" if len(text) > MAX_TEXT_CHARS else text


def _read_body(message) -> _Body:
    """The message's leaf parts, at most MAX_PARTS of them; a part that cannot be decoded makes it malformed."""
    body = _Body()
    leaves = 0
    try:
        for part in message.walk():
            if part.is_multipart():
                continue
            leaves += 1
            if leaves > MAX_PARTS:
                raise MalformedMessage(f"more than {MAX_PARTS} MIME parts", reason="too_many_parts")
            body.add(part)
    except MalformedMessage:
        raise
    except (LookupError, ValueError, AssertionError, TypeError, RecursionError) as error:
        raise MalformedMessage(f"unreadable body: {error}") from error
    return body


# --- Who sent it: Authentication-Results (RFC 8601) -------------------------------------------

# Methods that begin a new result even where a server forgot the ";" between two of them.
_METHODS = {
    "arc", "auth", "bimi", "compauth", "dkim", "dkim-adsp", "dmarc", "dnswl", "domainkeys",
    "iprev", "rrvs", "sender-id", "smime", "spf", "vbr",
}  # fmt: skip
_PAIR = re.compile(r'([A-Za-z0-9_.\-/]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;"]+)')


@dataclass(frozen=True)
class AuthenticationResult:
    """One method's verdict in an Authentication-Results header, e.g. dkim=pass header.d=example.com."""

    method: str
    result: str
    properties: dict[str, str]


def _without_comments(value: str) -> str:
    """The header with its (nested) comments removed and quoted strings kept; folding undone."""
    out, depth, quoted, escaped = [], 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if not depth:
                out.append(char)
            continue
        if char == "\\" and (quoted or depth):
            escaped = True
            if not depth:
                out.append(char)
            continue
        if quoted:
            quoted = char != '"'
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            quoted = char == '"'
            out.append(" " if char in "\r\n\t" else char)
    return "".join(out)


def _split_outside_quotes(value: str, separator: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_authentication_results(value: str) -> tuple[str, list[AuthenticationResult]]:
    """The authserv-id (lower case) and the results of one Authentication-Results header value.

    Lenient about what servers write in practice: comments anywhere, any case, folded lines,
    a version after the authserv-id, quoted values, a missing ";" between two results.
    """
    parts = _split_outside_quotes(_without_comments(value), ";")
    authserv = parts[0].split()
    authserv_id = authserv[0].lower().rstrip(".") if authserv else ""
    results: list[AuthenticationResult] = []
    for part in parts[1:]:
        method = result = ""
        properties: dict[str, str] = {}
        for key, raw_value in _PAIR.findall(part):
            key = key.lower()
            text = raw_value[1:-1].replace('\\"', '"') if raw_value.startswith('"') else raw_value
            name = key.split("/", 1)[0]  # a method may carry a version: dkim/1=pass
            if name in _METHODS or not method:
                if method:
                    results.append(AuthenticationResult(method, result, properties))
                method, result, properties = name, text.lower(), {}
            else:
                properties[key] = text
        if method:
            results.append(AuthenticationResult(method, result, properties))
    return authserv_id, results


def _domain(value: str) -> str:
    """The domain of header.d or header.i (an address or "@domain"), lower case, without a final dot."""
    return value.rpartition("@")[2].strip().strip("<>").lower().rstrip(".")


def _aligned(signing_domain: str, from_domain: str) -> bool:
    """Relaxed alignment without a public-suffix list: the signer is the From domain or a parent of it.

    (A parent's DNS controls the From domain anyway; a signer below the From domain, which
    DMARC would also accept, is refused here: without the suffix list, evil.example.com.cn
    and example.com.cn could not be told apart from one organisation.)
    """
    return (
        bool(signing_domain)
        and "." in signing_domain
        and (from_domain == signing_domain or from_domain.endswith("." + signing_domain))
    )


def sender_is_authenticated(parsed: ParsedMail, *, authserv_id: str) -> bool:
    """Whether our own receiving server vouches for the From: address of this message.

    Only Authentication-Results headers with our server's authserv-id count (anyone can add
    headers with another id, and RFC 8601 has our server remove forged ones with its id).
    A DMARC pass for the From domain vouches; so does a DKIM pass whose signing domain
    (header.d, else header.i) is aligned with it. A DMARC verdict other than pass or none
    from our server is never outweighed, nor is one made for another From domain than the
    one read here; a message with two From: headers (which two programs may read
    differently) is never vouched for.
    """
    authserv_id = authserv_id.strip().lower().rstrip(".")
    from_domain = _domain(parsed.sender)
    if not authserv_id or not from_domain or parsed.from_headers != 1:
        return False
    ours = [
        result
        for value in parsed.authentication_results
        for found_id, results in [parse_authentication_results(value)]
        if found_id == authserv_id
        for result in results
    ]
    dmarc = [result for result in ours if result.method == "dmarc"]
    for result in dmarc:
        judged = _domain(result.properties.get("header.from", from_domain))
        if result.result not in ("pass", "none") or judged != from_domain:
            return False
    if any(result.result == "pass" for result in dmarc):
        return True
    return any(
        _aligned(_domain(result.properties.get("header.d") or result.properties.get("header.i", "")), from_domain)
        for result in ours
        if result.method == "dkim" and result.result == "pass"
    )
