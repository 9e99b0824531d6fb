"""A storm of concurrent points operations, for the concurrency test (test_storm.py) and `bench/points.py`.

Threads (each with its own database connection) run a seeded random mix of earn, spend,
redeem, cancel and reverse over a few residents and small-stock rewards. Sources repeat
on purpose, so that the same award is raced and retried. Refusals by the rules
(`PointsError`: not enough points, out of stock...) are expected and counted; anything
else (a deadlock, a constraint violation) is a failure.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection

from home.factories import ResidentProfileFactory, UserFactory
from points import services
from points.factories import RewardFactory
from points.models import Reservation, Reward


@dataclass
class StormResult:
    operations: int = 0
    seconds: float = 0.0
    outcomes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0


@dataclass
class StormSetup:
    residents: list
    rewards: list
    admin: object
    initial_stock: dict[int, int]


def prepare(*, residents: int = 50, rewards: int = 5, stock: int = 3, prefix: str = "storm") -> StormSetup:
    services.ensure_builtin_rules()
    people = [
        ResidentProfileFactory(user__username=f"{prefix}-{index}", display_name=f"风暴{index}").user for index in range(residents)
    ]
    gifts = [RewardFactory(name=f"{prefix}礼品{index}", cost=15 + 5 * index, stock=stock) for index in range(rewards)]
    admin = UserFactory(username=f"{prefix}-admin", is_superuser=True)
    return StormSetup(people, gifts, admin, {gift.pk: gift.stock for gift in gifts})


def run(setup: StormSetup, *, operations: int = 5000, threads: int = 8, seed: int = 4) -> StormResult:
    result = StormResult()
    lock = threading.Lock()
    per_thread = operations // threads
    sources = [f"storm:{index}" for index in range(max(operations // 4, 1))]
    owner = {source: setup.residents[index % len(setup.residents)] for index, source in enumerate(sources)}

    def one(rng: random.Random) -> str:
        choice = rng.random()
        if choice < 0.40:
            source = rng.choice(sources)
            entry = services.award(resident=owner[source], rule_code="attendance", source_key=source, amount=rng.randint(1, 20))
            return "earn" if entry else "earn-repeat"
        if choice < 0.55:
            return "reverse" if services.reverse_award(source_key=rng.choice(sources)) else "reverse-none"
        if choice < 0.70:
            resident = rng.choice(setup.residents)
            services.adjust(actor=setup.admin, resident=resident, amount=-rng.randint(1, 10), reason="storm")
            return "spend"
        if choice < 0.88:
            services.redeem(resident=rng.choice(setup.residents), reward=rng.choice(setup.rewards))
            return "redeem"
        reservation = (
            Reservation.objects.filter(resident=rng.choice(setup.residents), status=Reservation.Status.RESERVED)
            .order_by("?")
            .first()
        )
        if reservation is None:
            return "cancel-none"
        services.cancel_reservation(reservation=reservation, actor=reservation.resident)
        return "cancel"

    def worker(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        counts: Counter = Counter()
        failures: list[str] = []
        try:
            for _index in range(per_thread):
                try:
                    counts[one(rng)] += 1
                except services.PointsError:
                    counts["refused"] += 1
                except Exception as error:  # noqa: BLE001  (every other error is what the storm looks for)
                    failures.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()
            with lock:
                result.outcomes.update(counts)
                result.failures.extend(failures)

    workers = [threading.Thread(target=worker, args=(number,)) for number in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.operations = per_thread * threads
    return result


def stock_problems(setup: StormSetup) -> list[str]:
    """Stock left + reservations held (waiting or collected) must equal the stock at the start."""
    problems = []
    for reward in Reward.objects.filter(pk__in=setup.initial_stock):
        held = Reservation.objects.filter(
            reward=reward, status__in=[Reservation.Status.RESERVED, Reservation.Status.COLLECTED]
        ).count()
        if reward.stock < 0 or reward.stock + held != setup.initial_stock[reward.pk]:
            problems.append(f"reward {reward.pk}: stock {reward.stock} + held {held} != {setup.initial_stock[reward.pk]}")
    return problems
