#!/usr/bin/env python3
"""A small sample client of Linli's API (README: API), as a phone app would use it. Standard library only.

It walks one resident's day: log in with a mobile number and the SMS code → list activities → book the next
session with a free seat → show the ticket → reserve a reward → write a letter with a photo → vote as a council
member, where a vote is open. Each step prints what it did; the ticket's QR code is saved as an SVG file.

    python3 clients/phone_walk.py --base http://127.0.0.1:8000 --phone 13800000001

With `make run` (SMS_BACKEND=console) the code is printed in the server's terminal; type it when asked.
Tests call `walk()` with a function that reads the code from the test outbox (api/tests/test_sample_client.py).
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

AUTH = "/_allauth/app/v1/auth"
API = "/api/v1"


def sample_photo(side: int = 32) -> bytes:
    """A small PNG (a blue square), standing in for a photo the resident took."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x30\x80\xc0" * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class ApiRefused(Exception):
    def __init__(self, status: int, body: dict) -> None:
        fields = "".join(f"; {name}: {problem}" for name, problem in (body.get("fields") or {}).items())
        super().__init__(f"{status} {body.get('code') or body.get('status')}: {body.get('message') or body}{fields}")
        self.status, self.body = status, body


def over_http(method: str, url: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    """One HTTP request with urllib: the status and the body, errors included."""
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (the address the user gave)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Phone:
    """One phone: the base address, the session token once logged in, the language it reads."""

    base: str
    language: str = "zh-hans"
    token: str | None = None
    log: list[str] = field(default_factory=list)
    # How a request travels: over HTTP, or (in the tests) through Django's test client.
    send: Callable[[str, str, bytes | None, dict[str, str]], tuple[int, bytes]] = over_http

    def call(self, method: str, path: str, body=None, *, headers: dict | None = None, ok=(200, 201)) -> dict:
        headers = {"Accept-Language": self.language, "Accept": "application/json", **(headers or {})}
        if self.token:
            headers["X-Session-Token"] = self.token
        data = None
        if isinstance(body, bytes):
            data = body
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, raw = self.send(method, self.base.rstrip("/") + path, data, headers)
        answer = json.loads(raw) if raw else {}
        if status not in ok:
            raise ApiRefused(status, answer)
        return answer

    def say(self, line: str) -> None:
        self.log.append(line)
        print(line, flush=True)


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body: text fields, then files (field name, file name, content, type)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content, kind in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(f"{head}Content-Type: {kind}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def log_in_by_phone(phone: Phone, number: str, code_for: Callable[[str], str]) -> None:
    """allauth's login by code: ask for the code (a pending session token comes back), then confirm it."""
    pending = phone.call("POST", f"{AUTH}/code/request", {"phone": number}, ok=(200, 401))
    phone.token = pending.get("meta", {}).get("session_token")
    done = phone.call("POST", f"{AUTH}/code/confirm", {"code": code_for(number)})
    phone.token = done["meta"]["session_token"]
    phone.say(f"logged in as {done['data']['user'].get('display') or number}")


def book_next_session(phone: Phone, out: Path) -> dict | None:
    activities = phone.call("GET", f"{API}/activities/")["items"]
    phone.say(f"{len(activities)} activities")
    for summary in activities:
        if not summary["free_seats"]:
            continue
        activity = phone.call("GET", f"{API}/activities/{summary['id']}/")
        session = next((each for each in activity["sessions"] if each["seats_left"] > 0 and each["status"] == "scheduled"), None)
        if session is None:
            continue
        try:
            booking = phone.call("POST", session["booking_url"], {}, headers={"Idempotency-Key": str(uuid.uuid4())})
        except ApiRefused as refusal:
            phone.say(f"not booked: {activity['title']}: {refusal}")
            continue
        phone.say(f"booked {booking['activity']} at {booking['starts_at']}: {booking['status_label']}")
        if booking["status"] == "confirmed":
            ticket = phone.call("GET", f"{API}/me/bookings/{booking['id']}/ticket/")
            (out / f"ticket-{ticket['display_code']}.svg").write_text(ticket["qr_svg"])
            phone.say(f"ticket {ticket['display_code']} (QR code in ticket-{ticket['display_code']}.svg)")
        return booking
    phone.say("no session with a free seat")
    return None


def reserve_a_reward(phone: Phone) -> dict | None:
    balance = phone.call("GET", f"{API}/me/points/")
    rewards = phone.call("GET", f"{API}/rewards/")["items"]
    phone.say(f"{balance['balance']} points; {len(rewards)} rewards")
    for reward in rewards:
        if not reward["can_exchange"]:
            continue
        reservation = phone.call(
            "POST", f"{API}/rewards/{reward['id']}/reservations/", {}, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        pickup = phone.call("GET", f"{API}/me/reservations/{reservation['id']}/pickup/")
        phone.say(f"reserved {reward['name']} for {reward['cost']} points: pick-up code {pickup['display_code']}")
        return reservation
    phone.say("no reward within the balance")
    return None


def write_a_letter(phone: Phone, subject: str, text: str, category: str = "other") -> dict:
    """To the resident's own community's mailbox (from their profile), with one photo."""
    profile = phone.call("GET", f"{API}/me/profile/")
    fields = {"subject": subject, "body": text, "category": category, "community": str(profile["community"])}
    if profile["grid"]:
        fields["grid"] = str(profile["grid"])
    body, kind = multipart(fields, [("photos", "photo.png", sample_photo(), "image/png")])
    letter = phone.call("POST", f"{API}/me/letters/", body, headers={"Content-Type": kind, "Idempotency-Key": str(uuid.uuid4())})
    phone.say(f"letter {letter['tracking_number']} sent: {letter['status_label']}")
    return letter


def vote_where_open(phone: Phone, choice: str = "yes") -> dict | None:
    """As a council member: check in to a running session with a vote open, then vote (a resident who sits on no
    council has no sessions here)."""
    sessions = phone.call("GET", f"{API}/council/sessions/")["items"]
    for summary in sessions:
        session = phone.call("GET", f"{API}/council/sessions/{summary['id']}/")
        for item in session["items"]:
            if item["status"] != "open" or item["voted"] or item["recused"]:
                continue
            if not session["checked_in"]:
                phone.call("POST", session["check_in_url"], {})
                session["checked_in"] = True
                phone.say(f"checked in to {session['title']}")
            vote = phone.call("POST", item["vote_url"], {"choice": choice})
            phone.say(f"voted {vote['choice_label'] or choice} on {item['title']}")
            return vote
    phone.say("no vote open")
    return None


def walk(base: str, number: str, code_for: Callable[[str], str], *, out: Path, language: str = "zh-hans") -> Phone:
    phone = Phone(base=base, language=language)
    log_in_by_phone(phone, number, code_for)
    book_next_session(phone, out)
    reserve_a_reward(phone)
    write_a_letter(phone, "楼道灯坏了", "3号楼2单元的楼道灯坏了一周，晚上很暗，老人上下楼不方便。", "safety")
    vote_where_open(phone)
    return phone


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the portal's address")
    parser.add_argument("--phone", required=True, help="the resident's mobile number (verified in the portal)")
    parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])
    parser.add_argument("--out", default=".", help="where the ticket's QR code is saved")
    options = parser.parse_args()
    try:
        walk(
            options.base,
            options.phone,
            lambda number: input(f"the code sent to {number}: ").strip(),
            out=Path(options.out),
            language=options.language,
        )
    except ApiRefused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
