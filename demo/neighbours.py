"""Demo neighbour help: in every grid a few posts of its residents, in their own language, some open, some done
and thanked (demo/content.py: NEIGHBOUR_POSTS).

Written through the neighbour-help services, each post dated to when it was posted (`now=`); the answers, the
completion and the thanks happen at seeding. Idempotent: a post is matched by its author and title.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from home.models import Grid
from neighbours import services
from neighbours.models import Post, Response, Thanks

from .content import NEIGHBOUR_POSTS, DemoNeighbourPost


def _person(login: str):
    return get_user_model().objects.select_related("profile__grid__community").get(username=f"demo-{login}")


def seed() -> None:
    for demo in NEIGHBOUR_POSTS:
        seed_post(demo)


def seed_post(demo: DemoNeighbourPost) -> Post:
    author = _person(demo.author)
    existing = Post.objects.filter(author=author, title=demo.title).first()
    if existing is not None:
        return existing
    grid = Grid.objects.select_related("community").get(community__code=demo.community, number=demo.grid)
    post = services.create_post(
        author=author,
        grid=grid,
        kind=demo.kind,
        category=demo.category,
        title=demo.title,
        text=demo.text,
        place=demo.place,
        when_text=demo.when,
        urgency=demo.urgency,
        now=timezone.now() - datetime.timedelta(days=demo.days_ago, hours=3),
    )
    if demo.helper:
        helper = _person(demo.helper)
        response = services.offer_help(post=post, responder=helper)
        if response.status == Response.Status.OFFERED:
            response = services.accept(response=response, actor=author)
        if demo.done:
            services.confirm_done(response=response, actor=helper, hours=Decimal(demo.hours) if demo.hours else None)
            services.confirm_done(response=response, actor=author)
            if demo.thanks:
                # On a request the poster thanks; on an offer the neighbour who was helped does.
                thanker = author if post.responder_gives else helper
                services.thank(response=response, actor=thanker, text=demo.thanks)
    return post


def summary() -> str:
    return (
        f"Neighbour help: {Post.objects.count()} posts "
        f"({Post.objects.filter(status=Post.Status.OPEN).count()} open, {Post.objects.filter(status=Post.Status.DONE).count()} done), "
        f"{Response.objects.count()} answers, {Thanks.objects.count()} thanks."
    )
