"""Reading letters sent by e-mail: MIME parsing that survives real-world Chinese mail.

Chinese mail clients label GBK text as GB2312, put raw GBK bytes in headers without
RFC 2047 encoding, send HTML only, and attach anything. Everything here decodes
leniently but never silently: what cannot be read becomes a `MalformedMessage`,
which the fetcher quarantines with the raw source.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser

MAX_TEXT_CHARS = 20_000
MAX_RAW_BYTES = 25 * 1024 * 1024
MAX_IMAGES = 3

# Labels that mean "some superset of GB2312" in practice: GB18030 decodes all of them.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}
_FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5hkscs")
_AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_AUTOMATIC_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply)([+-].*)?@", re.IGNORECASE
)


class MalformedMessage(Exception):
    """The message cannot become a letter (no sender, unreadable body, too big)."""


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
    images: list[Attachment] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # names of attachments not kept
    authentication_results: list[str] = field(default_factory=list)  # the raw Authentication-Results values
    from_headers: int = 1  # RFC 5322 allows one; two can be read differently by two programs

    @property
    def language(self) -> str:
        """zh-hans when the letter is written in Chinese, else en (for the acknowledgement)."""
        sample = f"{self.subject} {self.text[:500]}"
        han = sum(1 for char in sample if "\u4e00" <= char <= "\u9fff")
        return "zh-hans" if han >= 2 else "en"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset (read generously), else the likely ones, else with replacements."""
    tried = []
    if charset:
        label = charset.strip().strip('"').lower()
        tried.append(_CHARSET_ALIASES.get(label, label))
    tried += [c for c in _FALLBACK_CHARSETS if c not in tried]
    for name in tried:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _raw_header(raw: bytes, name: str) -> bytes | None:
    """The undecoded bytes of a header (unfolded), for headers sent as raw 8-bit text."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    match = re.search(rb"(?im)^" + re.escape(name.encode()) + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)", head)
    return re.sub(rb"\r?\n[ \t]+", b" ", match.group(1)).strip() if match else None


def _header(message: EmailMessage, name: str, raw: bytes = b"") -> str:
    """A header as text: RFC 2047 decoded, and raw 8-bit GBK or UTF-8 recovered."""
    try:
        value = message.get(name)
    except (IndexError, ValueError, TypeError):  # malformed encoded words make the parser raise
        value = None
        fallback = _raw_header(raw, name)
        if fallback is not None:
            value = fallback.decode("ascii", errors="replace")
    if value is None:
        return ""
    text = str(value)
    if raw and any(char == "\ufffd" or "\udc80" <= char <= "\udcff" for char in text):
        # Raw 8-bit bytes (Chinese clients send GBK headers unencoded): decode them as they were meant.
        original = _raw_header(raw, name)
        if original is not None and any(byte > 0x7F for byte in original):
            text = decode_bytes(original, None)
    return " ".join(_CONTROL.sub(" ", text).split())


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


def _part_text(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True) or b""
    text = decode_bytes(payload, part.get_content_charset())
    return html_to_text(text) if part.get_content_type() == "text/html" else text


def is_automatic(message: EmailMessage, sender: str) -> bool:
    """Auto-replies, bounces and list traffic: never acknowledged (mail loops, spam to strangers)."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(message, "Precedence").lower() in _AUTOMATIC_PRECEDENCE:
        return True
    if any(message.get(name) for name in ("List-Id", "List-Unsubscribe", "List-Post", "X-Autoreply", "X-Autorespond")):
        return True
    if message.get_content_type() == "multipart/report":
        return True
    if _header(message, "Return-Path").strip() == "<>":
        return True
    return bool(_AUTOMATIC_SENDERS.match(sender))


def parse_message(raw: bytes) -> ParsedMail:
    """Turn one raw RFC 5322 message into what a letter needs; raise MalformedMessage if it cannot be read."""
    if len(raw) > MAX_RAW_BYTES:
        raise MalformedMessage(f"message of {len(raw)} bytes is larger than {MAX_RAW_BYTES}")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as error:  # noqa: BLE001  (the parser should not raise, but any failure means quarantine)
        raise MalformedMessage(f"unparseable: {error}") from error
    sender_name, sender = email.utils.parseaddr(_header(message, "From", raw))
    if not sender or "@" not in sender:
        raise MalformedMessage("no sender address")
    sender = sender.strip().lower()
    recipients = [
        address.lower()
        for _name, address in email.utils.getaddresses(
            [_header(message, name) for name in ("To", "Cc", "Delivered-To", "X-Original-To")]
        )
        if "@" in address
    ]
    text_parts: list[str] = []
    html_parts: list[str] = []
    images: list[Attachment] = []
    dropped: list[str] = []
    try:
        for part in message.walk():
            if part.is_multipart():
                continue
            content_type = part.get_content_type()
            disposition = part.get_content_disposition()
            filename = part.get_filename() or ""
            if filename and any("\udc80" <= char <= "\udcff" for char in filename):
                filename = decode_bytes(filename.encode("utf-8", errors="surrogateescape"), None)
            if content_type.startswith("image/") and (disposition in ("attachment", "inline") or filename):
                data = part.get_payload(decode=True) or b""
                if len(images) < MAX_IMAGES and data:
                    images.append(
                        Attachment(filename=filename or f"image{len(images) + 1}", content_type=content_type, data=data)
                    )
                else:
                    dropped.append(filename or content_type)
            elif disposition == "attachment" or (filename and content_type not in ("text/plain", "text/html")):
                dropped.append(filename or content_type)
            elif content_type == "text/plain":
                text_parts.append(_part_text(part))
            elif content_type == "text/html":
                html_parts.append(_part_text(part))
            elif content_type in ("message/delivery-status", "message/rfc822", "text/rfc822-headers"):
                continue
            else:
                dropped.append(filename or content_type)
    except (LookupError, ValueError, AssertionError, TypeError) as error:
        raise MalformedMessage(f"unreadable body: {error}") from error
    text = "\n\n".join(part.strip() for part in (text_parts or html_parts) if part.strip())
    text = text.replace("\r\n", "\n").replace("\x00", "")
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "\n[…]"
    subject = _header(message, "Subject", raw)
    try:
        authentication_results = [str(value) for value in message.get_all("Authentication-Results") or []]
    except (IndexError, ValueError, TypeError):  # a malformed header: nothing in it is trusted
        authentication_results = []
    from_headers = sum(1 for name in message.keys() if name.lower() == "from")
    return ParsedMail(
        message_id=_header(message, "Message-ID").strip()[:255],
        sender=sender,
        sender_name=sender_name.strip()[:60],
        subject=subject,
        text=text,
        recipients=recipients,
        automatic=is_automatic(message, sender),
        images=images,
        dropped=dropped,
        authentication_results=authentication_results,
        from_headers=from_headers,
    )


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
