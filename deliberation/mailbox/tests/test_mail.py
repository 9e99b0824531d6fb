"""Letters by e-mail: MIME parsing of a real-world-shaped corpus, and fetching from a real Dovecot."""

import io
import itertools

import pytest
from django.core import mail
from django.test import override_settings
from PIL import Image

from deliberation.conftest import EML
from deliberation.mailbox import fetching, services
from deliberation.mailbox.factories import community_with_staff, resident
from deliberation.mailbox.mail import MAX_TEXT_CHARS, MalformedMessage, parse_message, sender_is_authenticated
from deliberation.mailbox.models import CommunityMailbox, IncomingMail, Letter
from deliberation.mailbox.services import intake

CORPUS = sorted(EML.glob("*.eml"))
PEOPLE = {  # file → (sender, subject, start of the text)
    "01_utf8_plain.eml": ("li.ayi@example.cn", "东门停车场晚上没有车位", "每天晚上七点以后"),
    "02_gbk_labelled_gb2312.eml": ("zhang@example.cn", "3幢电梯加装进度", "我叫张堃"),  # 堃 is GBK, not GB2312
    "03_gb18030_qp.eml": ("wang@example.cn", "雨后积水", "雨后5号楼门口积水很深，𠮷"),
    "04_big5.eml": ("chen@example.hk", "夜間施工噪音", "工地每晚十一點後"),
    "05_html_only.eml": ("zhao@example.cn", "垃圾分类", "垃圾桶 满了"),
    "06_alternative_gbk.eml": ("sun@example.cn", "助餐服务", "希望老年食堂周末也开放。"),
    "07_attachments.eml": ("qian@example.cn", "路灯坏了（附照片）", "南门路灯坏了一周"),
    "08_raw_8bit_gbk_headers.eml": ("zhou@example.cn", "小区绿化带被占用", "有人在绿化带里种菜。"),
    "13_huge_body.eml": ("wu@example.cn", "楼上噪音", "楼上每晚拖动家具"),
    "14_broken_headers.eml": ("zheng@example.cn", "穿", "快递柜占用消防通道。"),
    "15_english_resident.eml": ("anna@example.com", "Broken swing in the playground", "The swing near building 7"),
}
AUTOMATIC = {"09_auto_reply.eml", "10_bounce.eml", "11_mailing_list.eml"}
MALFORMED = {"12_no_sender.eml"}
OUR_SERVER = "mx.linli.example"  # the authserv-id of our receiving mail server in the authentication/ messages


def read(name: str) -> bytes:
    return (EML / name).read_bytes()


def test_the_corpus_is_complete():
    assert {path.name for path in CORPUS} == set(PEOPLE) | AUTOMATIC | MALFORMED


@pytest.mark.parametrize("name", sorted(PEOPLE))
def test_letters_from_people_are_decoded(name):
    sender, subject, start = PEOPLE[name]
    parsed = parse_message(read(name))
    assert (parsed.sender, parsed.subject) == (sender, subject)
    assert parsed.text.startswith(start)
    assert not parsed.automatic
    assert "\ufffd" not in parsed.text + parsed.subject + parsed.sender_name


def test_sender_names_in_encoded_and_raw_headers():
    assert parse_message(read("01_utf8_plain.eml")).sender_name == "李阿姨"
    assert parse_message(read("04_big5.eml")).sender_name == "陳太太"
    assert parse_message(read("08_raw_8bit_gbk_headers.eml")).sender_name == "周大爷"


def test_html_only_mail_becomes_text_without_scripts_or_styles():
    text = parse_message(read("05_html_only.eml")).text
    assert text == "垃圾桶 满了\n\n请增加清运次数\n谢谢"


def test_images_are_kept_and_other_attachments_dropped():
    parsed = parse_message(read("07_attachments.eml"))
    assert [(image.filename, image.content_type) for image in parsed.images] == [("路灯.jpg", "image/jpeg")]
    assert parsed.dropped == ["report.pdf", "setup.exe"]


def test_a_huge_body_is_cut():
    text = parse_message(read("13_huge_body.eml")).text
    assert len(text) == MAX_TEXT_CHARS + len("\n[…]") and text.endswith("\n[…]")


@pytest.mark.parametrize("name", sorted(AUTOMATIC))
def test_auto_replies_bounces_and_lists_are_recognised(name):
    assert parse_message(read(name)).automatic


def test_a_message_without_sender_is_malformed():
    with pytest.raises(MalformedMessage):
        parse_message(read("12_no_sender.eml"))


def test_the_language_is_guessed_for_strangers():
    assert parse_message(read("01_utf8_plain.eml")).language == "zh-hans"
    assert parse_message(read("15_english_resident.eml")).language == "en"


# --- Storing ------------------------------------------------------------------------------

uids = itertools.count(1)


@pytest.fixture
def community(community):
    """The deliberation tests' community (conftest.py), with its mailbox address."""
    CommunityMailbox.objects.create(community=community, address="liuhe@mailbox.linli.localhost")
    return community


def store(name, **place):
    place = {"folder": "INBOX", "uidvalidity": 1, "uid": next(uids), **place}
    return services.store_incoming_mail(raw=read(name), **place)


@pytest.mark.django_db
@override_settings(LINLI_MAILBOX_AUTHSERV_ID=OUR_SERVER)
def test_a_letter_from_a_verified_resident_is_theirs_and_acknowledged_in_their_language(
    community, django_capture_on_commit_callbacks
):
    anna = resident(community, user__email="anna@example.com", user__username="anna", preferred_language="en")
    with django_capture_on_commit_callbacks(execute=True):
        incoming, created = store("authentication/dmarc_pass.eml")
    letter = incoming.letter
    assert created and letter.writer == anna and letter.channel == Letter.Channel.EMAIL and letter.community == community
    assert mail.outbox[0].to == ["anna@example.com"]
    assert mail.outbox[0].subject == f"Your letter {letter.tracking_number}: Received"


@pytest.mark.django_db
def test_a_stranger_is_acknowledged_at_their_address_in_the_letters_language(community, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incoming, _created = store("02_gbk_labelled_gb2312.eml")
    letter = incoming.letter
    assert letter.writer is None and letter.contact == "zhang@example.cn" and letter.contact_name == "张先生"
    assert mail.outbox[0].to == ["zhang@example.cn"]
    assert mail.outbox[0].subject == f"您的来信 {letter.tracking_number}：已收到"


@pytest.mark.django_db
def test_photos_are_stripped_and_dropped_attachments_noted(community, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incoming, _created = store("07_attachments.eml")
    photo = incoming.letter.photos.get()
    with Image.open(io.BytesIO(bytes(photo.data))) as image:
        assert not image.getexif()
    assert "report.pdf, setup.exe" in incoming.note
    assert "report.pdf" in mail.outbox[0].body


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(AUTOMATIC))
def test_automatic_mail_is_recorded_but_never_answered(community, name, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incoming, created = store(name)
    assert created and incoming.outcome == IncomingMail.Outcome.AUTOMATIC and incoming.letter is None
    assert mail.outbox == [] and not Letter.objects.exists()


@pytest.mark.django_db
def test_a_malformed_message_is_quarantined_with_its_raw_source(community):
    incoming, created = store("12_no_sender.eml")
    assert created and incoming.outcome == IncomingMail.Outcome.QUARANTINED
    assert bytes(incoming.raw) == read("12_no_sender.eml") and incoming.error == "no sender address"


@pytest.mark.django_db
def test_the_same_message_is_stored_once_by_uid_and_by_content(community):
    first, created = store("01_utf8_plain.eml", uid=500)
    again, created_again = store("01_utf8_plain.eml", uid=500)
    elsewhere, created_elsewhere = store("01_utf8_plain.eml", folder="Archive", uid=9)
    assert created and not created_again and created_elsewhere  # every UID has its row
    assert first == again and elsewhere.outcome == IncomingMail.Outcome.DUPLICATE and elsewhere.duplicate_of == first
    assert Letter.objects.count() == 1


# --- Whose letter: the From: address only counts when our mail server vouches for it ---------


@pytest.mark.django_db
@override_settings(LINLI_MAILBOX_AUTHSERV_ID=OUR_SERVER)
@pytest.mark.parametrize(
    ("name", "in_her_account"),
    [
        ("forged_from.eml", False),  # our server: spf=fail, dmarc=fail
        ("foreign_pass.eml", False),  # "pass" only in headers with other servers' ids
        ("unaligned_dkim.eml", False),  # a DKIM pass for another domain than From's
        ("aligned_dkim.eml", True),  # our OpenDKIM: pass for d=example.com (folded, comments, other case)
        ("dmarc_pass.eml", True),
    ],
)
def test_an_email_is_a_residents_letter_only_when_our_server_authenticated_its_sender(
    community, name, in_her_account, django_capture_on_commit_callbacks
):
    anna = resident(community, user__email="anna@example.com", user__username="anna", preferred_language="en")
    with django_capture_on_commit_callbacks(execute=True):
        incoming, created = store(f"authentication/{name}")
    letter = incoming.letter
    assert created and incoming.outcome == IncomingMail.Outcome.LETTER
    assert letter.writer == (anna if in_her_account else None)
    assert letter.contact == "anna@example.com" and letter.community == community
    assert (letter.access_key == "") is in_her_account  # a contact's letter is followed by its secret link
    assert list(Letter.objects.filter(writer=anna)) == ([letter] if in_her_account else [])


@pytest.mark.django_db
@pytest.mark.parametrize("authserv_id", ["", "mx.elsewhere.example"])
def test_without_our_servers_id_configured_no_email_goes_into_an_account(community, authserv_id):
    resident(community, user__email="anna@example.com", user__username="anna")
    with override_settings(LINLI_MAILBOX_AUTHSERV_ID=authserv_id):
        incoming, _created = store("authentication/dmarc_pass.eml")
    assert incoming.letter.writer is None and incoming.letter.contact == "anna@example.com"


def message_with(*headers: str, sender: str = "Anna <anna@example.com>") -> bytes:
    head = "".join(f"{header}\r\n" for header in headers)
    return (
        f"{head}From: {sender}\r\nTo: liuhe@mailbox.linli.localhost\r\nSubject: Swing\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBroken.\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("headers", "trusted"),
    [
        (["Authentication-Results: mx.linli.example; dmarc=pass header.from=example.com"], True),
        (["Authentication-Results: mx.linli.example; dmarc=pass"], True),
        (["Authentication-Results: mx.linli.example; DKIM=Pass Header.D=Example.COM"], True),
        (["Authentication-Results: mx.linli.example; dkim=pass header.i=anna@mail.example.com"], False),
        (["Authentication-Results: mx.linli.example; dkim=pass header.i=@example.com"], True),
        (["Authentication-Results: mx.linli.example; dkim=pass header.d=com"], False),
        (["Authentication-Results: mx.linli.example; dkim=pass header.d=evil-example.com"], False),
        (["Authentication-Results: mx.linli.example; spf=pass smtp.mailfrom=example.com"], False),  # SPF is not about From
        (["Authentication-Results: mx.linli.example; dkim=pass header.d=example.com dmarc=fail"], False),  # no ";"
        (["Authentication-Results: mx.linli.example; (dmarc=pass header.from=example.com) dkim=none"], False),  # a comment
        (['Authentication-Results: mx.linli.example; dkim=neutral reason="dmarc=pass" header.d=example.com'], False),
        (["Authentication-Results: mx.linli.example; dmarc=pass header.from=evil.example"], False),  # read another From
        (
            [
                "Authentication-Results: mx.linli.example; dmarc=fail header.from=example.com",
                "Authentication-Results: mx.linli.example; dmarc=pass header.from=example.com",
            ],
            False,  # a failure from our server is not outweighed
        ),
        (
            [
                "Authentication-Results: mx.linli.example; dmarc=none header.from=example.com",
                "Authentication-Results: mx.linli.example;\r\n dkim=pass\r\n header.d=example.com",
            ],
            True,  # no DMARC policy: an aligned DKIM pass is enough
        ),
        (["Authentication-Results: mx.linli.example.evil.example; dmarc=pass header.from=example.com"], False),
        (["Authentication-Results: dmarc=pass header.from=example.com"], False),
        (["Authentication-Results: mx.linli.example; none"], False),
        ([], False),
    ],
)
def test_reading_authentication_results(headers, trusted):
    parsed = parse_message(message_with(*headers))
    assert sender_is_authenticated(parsed, authserv_id=OUR_SERVER) is trusted


@pytest.mark.parametrize("extra_first", [True, False])
def test_a_message_with_two_from_headers_is_never_trusted(extra_first):
    """Our server may have judged one From: and this parser read the other."""
    results = "Authentication-Results: mx.linli.example; dmarc=pass header.from=example.com"
    raw = message_with(results, *(["From: x@evil.example"] if extra_first else []))
    if not extra_first:
        raw = raw.replace(b"To: ", b"From: x@evil.example\r\nTo: ", 1)
    parsed = parse_message(raw)
    assert parsed.from_headers == 2
    assert not sender_is_authenticated(parsed, authserv_id=OUR_SERVER)


# --- Fetching from a real IMAP server -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fetching_the_corpus_from_dovecot(dovecot, site_pages):
    community = community_with_staff(name="六和社区", code="liuhe")
    CommunityMailbox.objects.create(community=community, address="liuhe@mailbox.linli.localhost")
    folder = dovecot.new_folder("Corpus")
    for path in CORPUS:
        dovecot.append(folder, path.read_bytes())
    report = fetching.fetch_mail(account=dovecot.account(folder))
    assert (report.seen, report.letters, report.automatic, report.quarantined) == (15, 11, 3, 1)
    assert Letter.objects.filter(channel="email", community=community).count() == 11
    assert len(mail.outbox) == 11  # one acknowledgement per letter, none to machines
    assert sorted(dovecot.flagged(folder)) == list(range(1, 16))
    again = fetching.fetch_mail(account=dovecot.account(folder))
    assert again.seen == 0 and Letter.objects.count() == 11


@pytest.mark.django_db(transaction=True)
def test_a_fetch_killed_halfway_loses_and_duplicates_nothing(dovecot, site_pages, monkeypatch):
    community_with_staff(name="六和社区", code="liuhe")
    folder = dovecot.new_folder("Restart")
    for name in ("01_utf8_plain.eml", "12_no_sender.eml", "04_big5.eml", "06_alternative_gbk.eml"):
        dovecot.append(folder, read(name))
    real_store = intake._new_letter
    calls = []

    def killed_at_the_third_letter(**kwargs):
        calls.append(kwargs["subject"])
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process dies halfway through the batch's transaction
        return real_store(**kwargs)

    monkeypatch.setattr(intake, "_new_letter", killed_at_the_third_letter)
    with pytest.raises(KeyboardInterrupt):
        fetching.fetch_mail(account=dovecot.account(folder))
    assert IncomingMail.objects.count() == 0 and Letter.objects.count() == 0 and dovecot.flagged(folder) == []
    monkeypatch.setattr(intake, "_new_letter", real_store)
    report = fetching.fetch_mail(account=dovecot.account(folder))
    assert (report.seen, report.already_stored, report.letters, report.quarantined) == (4, 0, 3, 1)
    assert IncomingMail.objects.count() == 4 and Letter.objects.count() == 3
    assert dovecot.flagged(folder) == [1, 2, 3, 4]
    assert len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_a_fetch_killed_between_the_commits_and_the_flags_flags_them_next_time(dovecot, site_pages, monkeypatch):
    community_with_staff(name="六和社区", code="liuhe")
    folder = dovecot.new_folder("Unflagged")
    for name in ("01_utf8_plain.eml", "04_big5.eml"):
        dovecot.append(folder, read(name))

    def killed(client, uids):
        raise KeyboardInterrupt

    monkeypatch.setattr(fetching, "mark_stored", killed)
    with pytest.raises(KeyboardInterrupt):
        fetching.fetch_mail(account=dovecot.account(folder))
    monkeypatch.undo()
    report = fetching.fetch_mail(account=dovecot.account(folder))
    assert (report.seen, report.already_stored) == (2, 2)
    assert Letter.objects.count() == 2 == len(mail.outbox) and dovecot.flagged(folder) == [1, 2]


@pytest.mark.django_db(transaction=True)
def test_the_fetch_mail_command(dovecot, site_pages, settings):
    from django.core.management import call_command

    community_with_staff(name="六和社区", code="liuhe")
    folder = dovecot.new_folder("Command")
    dovecot.append(folder, read("03_gb18030_qp.eml"))
    settings.LINLI_MAILBOX_IMAP = {
        "HOST": "127.0.0.1",
        "PORT": dovecot.port,
        "USER": "liuhe",
        "PASSWORD": "mailbox-test-password",
        "FOLDER": folder,
        "SSL": False,
    }
    out = io.StringIO()
    call_command("fetch_mail", stdout=out)
    assert "1 messages: 1 letters" in out.getvalue()
    assert Letter.objects.get().subject == "雨后积水"


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_fetches_at_once_store_each_message_once(postgres_only, dovecot, site_pages):
    import threading

    from django.db import connection

    community_with_staff(name="六和社区", code="liuhe")
    folder = dovecot.new_folder("Concurrent")
    names = [name for name in sorted(PEOPLE) if name != "13_huge_body.eml"]
    for name in names:
        dovecot.append(folder, read(name))
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def fetch():
        try:
            barrier.wait()
            reports.append(fetching.fetch_mail(account=dovecot.account(folder)))
        except Exception as error:  # noqa: BLE001  (asserted below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(report.letters for report in reports) == len(names)
    assert Letter.objects.count() == len(names) == IncomingMail.objects.count()
    assert len(mail.outbox) == len(names)
    assert dovecot.flagged(folder) == list(range(1, len(names) + 1))
