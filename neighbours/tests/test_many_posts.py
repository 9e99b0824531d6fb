"""A grid with 10,000 open posts: the board and the grid page's section cost the same queries as with a few, and
print their time (PostgreSQL: the size that matters in production; a benchmark, not this test, judges speed)."""

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from neighbours.factories import neighbour
from neighbours.listing import grid_section
from neighbours.models import Post, default_expiry

MANY = 10_000


def posts(grid, authors, count):
    now = timezone.now()
    Post.objects.bulk_create(
        [
            Post(
                grid=grid,
                community=grid.community,
                author=authors[number % len(authors)],
                title=f"帮忙 {number}",
                text="周末帮忙搬东西。",
                category=["errands", "repairs", "elderly"][number % 3],
                urgency=["low", "normal", "urgent"][number % 3],
                created_at=now,
                expires_at=default_expiry(now),
            )
            for number in range(count)
        ],
        batch_size=2000,
    )


def measured(call):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        call()
        return len(queries.captured_queries), time.perf_counter() - started


def test_the_board_and_the_grid_section_with_10000_posts(postgres_only, client, grid, poster):
    authors = [neighbour(grid) for _ in range(20)]
    posts(grid, authors, 3)
    client.force_login(poster)
    with translation.override("en"):
        board = reverse("neighbours:board")
    client.get(board)
    client.get(board)  # the second request settles the shared parts each process keeps (plumbing.personal)
    few_board, _took = measured(lambda: client.get(board))
    few_section, _took = measured(lambda: grid_section(grid, poster))
    posts(grid, authors, MANY)
    many_board, board_seconds = measured(lambda: client.get(board))
    page = client.get(board).content.decode()
    many_section, section_seconds = measured(lambda: grid_section(grid, poster))
    assert (many_board, many_section) == (few_board, few_section)
    assert page.count('class="card neighbour-post"') == 20 and "Page 1 of 501" in page
    print(
        f"board {many_board} queries {board_seconds * 1000:.0f} ms; section {many_section} queries {section_seconds * 1000:.0f} ms"
    )
