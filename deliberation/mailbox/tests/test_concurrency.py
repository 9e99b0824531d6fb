"""Concurrency claims, proven on PostgreSQL with real threads and separate connections."""

import threading

import pytest
from django.db import connection

from deliberation.mailbox import services
from deliberation.mailbox.factories import TopicFactory, community_with_staff, resident
from deliberation.mailbox.models import Letter, Support

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def run_together(count, work):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker(index):
        try:
            barrier.wait()
            results.append(work(index))
        except Exception as error:  # noqa: BLE001  (collected and asserted on below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_tracking_numbers_are_unique_and_gapless_under_concurrency(postgres_only, site_pages):
    community = community_with_staff(code="liuhe")
    writers = [resident(community) for _ in range(8)]
    results, errors = run_together(
        8,
        lambda i: (
            services.submit_letter(
                channel="web", writer=writers[i], community=community, subject="停车", body="停车难"
            ).tracking_number
        ),
    )
    assert errors == []
    assert sorted(int(number.split("-")[1]) for number in results) == list(range(1, 9))
    assert Letter.objects.count() == 8


def test_one_resident_clicking_support_twice_at_once_counts_once(postgres_only, site_pages):
    community = community_with_staff(code="liuhe")
    topic = TopicFactory(community=community)
    person = resident(community)
    results, errors = run_together(4, lambda i: services.support_topic(topic=topic, resident=person))
    assert len(results) == 1
    assert all(isinstance(error, services.MailboxError) for error in errors) and len(errors) == 3
    assert Support.objects.count() == 1


def test_the_daily_limit_holds_when_letters_are_sent_at_once(postgres_only, site_pages):
    community = community_with_staff(code="liuhe")
    person = resident(community)
    count = services.LETTERS_PER_ACCOUNT_PER_DAY + 3
    results, errors = run_together(
        count,
        lambda i: services.submit_letter(channel="web", writer=person, community=community, subject="噪音", body="夜间施工噪音"),
    )
    assert len(results) == services.LETTERS_PER_ACCOUNT_PER_DAY
    assert all(isinstance(error, services.RateLimited) for error in errors) and len(errors) == 3
