"""Factories for the council's tests and demo data."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from deliberation.council.models import AgendaItem, Council, CouncilMember, CouncilSession
from deliberation.mailbox.factories import community_with_staff, resident
from home.factories import CommunityFactory


class CouncilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Council

    community = factory.SubFactory(CommunityFactory)
    name = factory.LazyAttribute(lambda o: f"{o.community.name}居民议事会")
    name_en = factory.LazyAttribute(lambda o: f"{o.community.code.title()} residents' council")


class CouncilMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouncilMember

    council = factory.SubFactory(CouncilFactory)
    user = factory.LazyAttribute(lambda o: resident(o.council.community))
    role = CouncilMember.Role.MEMBER
    term_start = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=365))
    term_end = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=2 * 365))


def council_with_members(*, members: int = 7, community=None, **fields) -> Council:
    """A council of `members` current members: the first is the chair, the second the secretary."""
    council = CouncilFactory(community=community or community_with_staff(), **fields)
    roles = [CouncilMember.Role.CHAIR, CouncilMember.Role.SECRETARY]
    for number in range(members):
        CouncilMemberFactory(council=council, role=roles[number] if number < len(roles) else CouncilMember.Role.MEMBER)
    return council


class CouncilSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouncilSession

    council = factory.SubFactory(CouncilFactory)
    title = "第三季度居民议事会"
    title_en = "Third-quarter council session"
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=2))
    place = "社区党群服务中心二楼会议室"
    place_en = "Community service centre, meeting room, 2nd floor"
    mode = CouncilSession.Mode.HYBRID


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    session = factory.SubFactory(CouncilSessionFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = "增设夜间临时停车位"
    title_en = "Night-time parking bays"
    motion = "同意在小区东侧空地增设20个夜间临时停车位，由物业负责施划。"
    motion_en = "Twenty night-time parking bays are marked out on the empty plot east of the estate by the property manager."
