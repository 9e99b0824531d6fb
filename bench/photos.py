#!/usr/bin/env python
"""`make bench` (mailbox photos): server time and peak memory of a letter carrying three large photos.

The audit's case: three 6300×6300 PNGs of one colour (about 125 kB each, 40 Mpx each once
decoded) posted to the letter form by a resident whose daily limit is used up. The refusal
must cost no decoding: the target is under 0.2 s and under 50 MB for the refused letter.
For comparison, the same letter accepted (a resident under the limit: the photos are
decoded and scaled down), and one with three 6000×6000 JPEGs (36 Mpx, a phone's largest).

Each letter is posted in-process with Django's test client (no network) to a throwaway
SQLite database in a temporary folder, each in its own forked process so that memory
one letter freed cannot hide another's. Printed per letter: wall and CPU time of the
request, the rise of the process's peak resident memory during it (VmHWM, reset through
/proc/self/clear_refs; Pillow's pixel buffers are not Python allocations, so this is the
number that counts), and the peak of Python allocations in a second, identical request
under tracemalloc (which slows Python down, so it is not timed). Linux only for the
resident figure. Installs nothing, sends no mail (the test settings' in-memory backend).
"""

from __future__ import annotations

import gc
import io
import logging
import os
import struct
import sys
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIDE = 6300
JPEG_SIDE = 6000
TARGET_SECONDS = 0.2
TARGET_MB = 50


def flat_png(side: int, colour: bytes = b"\x30\x80\xc0") -> bytes:
    """An RGB PNG of one colour, compressed row by row: never holds the decoded image in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + colour * side  # filter byte "none", then the pixels
    deflate = zlib.compressobj(9)
    compressed = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", compressed) + chunk(b"IEND", b"")


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
    except OSError:
        return False
    return True


def measure(label: str, post, *, expected: int) -> tuple[float, float]:
    """Post twice: once for time and resident memory, once under tracemalloc.

    Prints and returns (wall seconds, peak MB).
    """
    gc.collect()
    resettable = _reset_peak()
    resident_before = _status_kb("VmRSS") or 0
    wall, cpu = time.perf_counter(), time.process_time()
    status = post()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_kb = _status_kb("VmHWM") if resettable else None
    rise_mb = ((peak_kb or resident_before) - resident_before) / 1024
    gc.collect()
    tracemalloc.start()
    post()
    _current, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"photos: {label}: HTTP {status}, {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU, "
        f"peak +{rise_mb:.0f} MB resident, {python_peak / 2**20:.1f} MB Python allocations"
        + ("" if resettable else " (peak resident memory not resettable here: the figure is a lower bound)"),
        flush=True,
    )
    assert status == expected, f"expected HTTP {expected}"
    return wall, max(rise_mb, python_peak / 2**20)


def in_child(work) -> int:
    """Run `work` in a forked process (its own memory); its exit status: 0 if it returned True."""
    from django.db import connections

    connections.close_all()  # the child opens its own
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if work() else 1
        except BaseException:  # noqa: BLE001  (report and leave the child, whatever happened)
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def flat_jpeg(side: int) -> bytes:
    """A JPEG of one colour, made in a child process so that its pixels never sit in this one's memory."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        from PIL import Image

        out = io.BytesIO()
        Image.new("RGB", (side, side), (48, 128, 192)).save(out, format="JPEG", quality=90)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(out.getvalue())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return data


def main() -> int:
    workdir = tempfile.mkdtemp(prefix="linli-bench-photos-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "linli.settings.test"
    sys.path[:0] = [str(REPO / "site"), str(REPO)]
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from django.utils import translation

    setup_test_environment()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the refused letter's 429 is expected
    call_command("migrate", verbosity=0)

    from deliberation.mailbox import services
    from deliberation.mailbox.factories import resident, web_letter
    from deliberation.mailbox.models import Letter
    from home.services import create_community, ensure_site

    ensure_site()
    community = create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    busy, fresh = resident(community), resident(community)
    for _ in range(services.LETTERS_PER_ACCOUNT_PER_DAY):
        web_letter(writer=busy, community=community)
    png, jpeg = flat_png(SIDE), flat_jpeg(JPEG_SIDE)
    with translation.override("zh-hans"):
        url = reverse("mailbox:write_letter")

    def post_as(user, *, photos: tuple[bytes, str] | None = (png, "png"), subject: str = "楼道堆物"):
        client = Client()
        client.force_login(user)

        def post() -> int:
            data = {
                "subject": subject,
                "body": "楼道里堆满了杂物，请看照片。",
                "category": "other",
                "community": community.pk,
                "privacy": "staff_only",
                "action": "send",
            }
            if photos:
                content, kind = photos
                data |= {
                    f"photo{n}": SimpleUploadedFile(f"p{n}.{kind}", content, content_type=f"image/{kind}") for n in (1, 2, 3)
                }
            return client.post(url, data).status_code

        return post

    print(
        f"photos: three {SIDE}×{SIDE} PNGs of {len(png) // 1024} kB each; three {JPEG_SIDE}×{JPEG_SIDE} JPEGs of {len(jpeg) // 1024} kB each"
    )
    # Warm-up, not measured (templates, URL resolver, sessions): a form with an error, no photos.
    for user in (busy, fresh):
        post_as(user, photos=None, subject="")()
    refused = post_as(busy)

    def refused_letter() -> bool:
        wall, peak = measure("refused letter, three PNGs (daily limit used up)", refused, expected=429)
        return wall < TARGET_SECONDS and peak < TARGET_MB

    ok = in_child(refused_letter) == 0
    in_child(lambda: measure("accepted letter, three PNGs", post_as(fresh), expected=200) and True)
    in_child(lambda: measure("accepted letter, three JPEGs", post_as(fresh, photos=(jpeg, "jpeg")), expected=200) and True)
    stored = Letter.objects.filter(writer=fresh)
    assert stored.count() == 4 and all(letter.photos.count() == 3 for letter in stored), "the letters were not stored"
    assert Letter.objects.filter(writer=busy).count() == services.LETTERS_PER_ACCOUNT_PER_DAY, (
        "a letter over the limit was stored"
    )
    print(f"photos: refused letter {'meets' if ok else 'MISSES'} the target (< {TARGET_SECONDS} s, < {TARGET_MB} MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
