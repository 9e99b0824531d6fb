"""Factories for neighbour help (tests and seed_demo): a grid with residents and staff, posts, responses."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from home.factories import CommunityFactory, GridFactory, ResidentProfileFactory, UserFactory

from .models import Post, Response, default_expiry


def community_with_staff(**fields):
    """A community with its staff and heads groups (who may open the admin), as home.services.create_community
    makes them, without its pages."""
    community = CommunityFactory(**fields)
    if community.editors is None:
        community.editors, _created = Group.objects.get_or_create(name=f"{community.name} · staff")
        community.heads, _created = Group.objects.get_or_create(name=f"{community.name} · heads")
        community.save()
        access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
        community.editors.permissions.add(access)
        community.heads.permissions.add(access)
    return community


def staff_member(community, **fields):
    user = UserFactory(**fields)
    user.groups.add(community.editors)
    return user


def neighbour(grid, **fields):
    """A verified adult resident of `grid`, with a profile."""
    fields.setdefault("birth_year", timezone.localdate().year - 40)
    return ResidentProfileFactory(community=grid.community, grid=grid, **fields).user


def grid_of_community(community=None, **fields):
    return GridFactory(community=community or community_with_staff(), **fields)


class PostFactory(factory.django.DjangoModelFactory):
    """A post stored directly (no checks): use services.create_post to test the rules."""

    class Meta:
        model = Post

    grid = factory.LazyFunction(grid_of_community)
    community = factory.LazyAttribute(lambda o: o.grid.community)
    author = factory.LazyAttribute(lambda o: neighbour(o.grid))
    kind = "request"
    category = "errands"
    title = "帮忙提菜上楼"
    text = "周六上午从菜场回来，东西有点多，想请邻居帮忙提上五楼。"
    place = "3幢楼下"
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: default_expiry(o.created_at))


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    post = factory.SubFactory(PostFactory)
    responder = factory.LazyAttribute(lambda o: neighbour(o.post.grid))
    message = "我周六上午在家，可以帮忙。"


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)
