"""Factories for the points tests and demo data."""

from __future__ import annotations

import factory

from home.factories import ResidentProfileFactory

from .models import EarningRule, Reward


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"环保购物袋{n}")
    description = "可重复使用的帆布袋。"
    cost = 50
    stock = 10
    pickup_place = "社区服务中心一楼"
    pickup_hours = "工作日 9:00-17:00"


class EarningRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarningRule

    code = factory.Sequence(lambda n: f"rule-{n}")
    name = factory.Sequence(lambda n: f"规则{n}")
    points = 5
    max_points = 20


def resident(**fields):
    """A verified resident with a profile (in a community if one is given)."""
    return ResidentProfileFactory(**fields).user
