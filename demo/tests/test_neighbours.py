"""Demo neighbour help: every grid has open and completed posts, in both languages; a second run creates nothing."""

import pytest

from demo import neighbours as demo
from home.models import Grid
from neighbours.models import Post, Response, Thanks
from points.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_every_demo_grid_has_open_and_done_posts_in_both_languages(demo_street):
    assert "Neighbour help:" in demo_street.output
    for grid in Grid.objects.all():
        posts = Post.objects.filter(grid=grid)
        assert posts.filter(status=Post.Status.OPEN).exists(), grid
        assert posts.filter(status=Post.Status.DONE).exists(), grid
    assert Post.objects.filter(title__startswith="English").exists() and Post.objects.filter(title__contains="菜").exists()
    assert Thanks.objects.count() >= 7
    assert LedgerEntry.objects.filter(source_key__startswith="neighbours.help:").exists()
    assert demo_street.mails == []
    counted = (Post.objects.count(), Response.objects.count(), Thanks.objects.count())
    demo.seed()
    assert (Post.objects.count(), Response.objects.count(), Thanks.objects.count()) == counted
