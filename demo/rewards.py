"""Demo points: the built-in rules, 10 rewards in both languages, and a plausible history.

Idempotent: rewards are matched by name, and a demo resident's history is written only
when they have no ledger entries yet, so a second run creates nothing. The history goes through
the points services, each change dated to when it happened (their `at` argument).
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from home.models import Community
from points import services
from points.models import Account, EarningRule, LedgerEntry, Reservation, Reward

# name, English name, cost, stock, monthly limit, community code (None: all), description, English description
REWARDS = [
    (
        "环保购物袋",
        "Reusable shopping bag",
        30,
        40,
        2,
        None,
        "可折叠帆布袋，印有社区标识。",
        "A foldable canvas bag with the community logo.",
    ),
    ("洗衣液一瓶", "Bottle of laundry detergent", 60, 25, 1, None, "2 升装洗衣液。", "A 2-litre bottle of laundry detergent."),
    ("垃圾分类桶", "Sorting bin set", 80, 15, 1, None, "厨余和其他垃圾双桶。", "Two bins: food waste and other waste."),
    (
        "理发服务一次",
        "One haircut",
        50,
        20,
        1,
        "liuhe",
        "社区志愿理发师，周三上午。",
        "By the community's volunteer barber, Wednesday mornings.",
    ),
    (
        "体检套餐",
        "Health check package",
        150,
        8,
        1,
        None,
        "社区卫生服务中心基础体检。",
        "A basic check-up at the community health centre.",
    ),
    (
        "书法课一期",
        "A term of calligraphy classes",
        120,
        6,
        1,
        "jiangnan",
        "暑期书法班，邻居老师授课。",
        "Summer calligraphy taught by a neighbour.",
    ),
    ("毛巾两条", "Two towels", 25, 50, 2, None, "纯棉毛巾。", "Cotton towels."),
    ("电影票两张", "Two cinema tickets", 100, 10, 1, None, "附近影院通用。", "Valid at the nearby cinema."),
    (
        "家电清洗一次",
        "Appliance cleaning",
        200,
        5,
        1,
        None,
        "空调或油烟机清洗一次。",
        "One air-conditioner or range-hood cleaning.",
    ),
    ("雨伞", "Umbrella", 40, 30, 1, None, "长柄雨伞。", "A long-handled umbrella."),
]
PICKUP = ("社区服务中心一楼服务台", "Service desk, community centre ground floor", "工作日 9:00-17:00", "Weekdays 9:00-17:00")
HISTORY_DAYS = 300


def seed() -> None:
    with transaction.atomic():
        services.ensure_builtin_rules()
        rewards = [seed_reward(*row) for row in REWARDS]
    User = get_user_model()
    residents = User.objects.filter(username__startswith="demo-", groups__isnull=True, profile__isnull=False)
    for index, resident in enumerate(residents.select_related("profile").order_by("username")):
        if LedgerEntry.objects.filter(account__resident=resident).exists():
            continue
        with transaction.atomic():
            seed_history(resident, rewards, random.Random(index))


def seed_reward(name, name_en, cost, stock, limit, community_code, description, description_en) -> Reward:
    reward = Reward.objects.filter(name=name).first()
    if reward is None:
        community = Community.objects.filter(code=community_code).first() if community_code else None
        reward = Reward.objects.create(
            name=name,
            name_en=name_en,
            description=description,
            description_en=description_en,
            cost=cost,
            stock=stock,
            monthly_limit=limit,
            community=community,
            pickup_place=PICKUP[0],
            pickup_place_en=PICKUP[1],
            pickup_hours=PICKUP[2],
            pickup_hours_en=PICKUP[3],
        )
    return reward


def seed_history(resident, rewards: list[Reward], rng: random.Random) -> None:
    """A year of taking part: activities, volunteering, sorting checks, a gift or two."""
    today = timezone.localdate()
    staff = (
        get_user_model().objects.filter(groups=resident.profile.community.editors).first() if resident.profile.community else None
    )
    days = sorted(rng.sample(range(3, HISTORY_DAYS), rng.randint(8, 16)), reverse=True)
    for number, days_ago in enumerate(days):
        day = today - datetime.timedelta(days=days_ago)
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(rng.randint(8, 19), rng.randint(0, 59))))
        key = f"demo:{resident.username}:{number}"
        choice = rng.random()
        if choice < 0.45:
            amount = rng.choice([5, 8, 10, 15])
            services.award(resident=resident, rule_code="attendance", source_key=key, amount=amount, on=day, at=moment)
        elif choice < 0.65:
            hours = Decimal(rng.choice(["1", "1.5", "2", "3"]))
            services.award(
                resident=resident, rule_code="volunteering", source_key=key, hours=hours, actor=staff, on=day, at=moment
            )
        elif choice < 0.85:
            services.award(resident=resident, rule_code="garbage_sorting", source_key=key, actor=staff, on=day, at=moment)
        else:
            services.award(resident=resident, rule_code="health_checkin", source_key=key, actor=staff, on=day, at=moment)
        account = Account.objects.get(resident=resident)
        affordable = [r for r in rewards if r.cost <= account.balance and services.may_redeem(resident=resident, reward=r)]
        if affordable and days_ago > 20 and rng.random() < 0.2:
            reservation = services.redeem(resident=resident, reward=rng.choice(affordable), at=moment)
            if staff is not None:
                services.hand_over(code=reservation.code, actor=staff, at=moment + datetime.timedelta(days=2))


def summary() -> str:
    return (
        f"Points: {EarningRule.objects.count()} rules, {Reward.objects.count()} rewards, "
        f"{Account.objects.count()} accounts, {LedgerEntry.objects.count()} ledger entries, "
        f"{Reservation.objects.count()} reservations."
    )
