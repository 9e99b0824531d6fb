"""Enqueue the periodic background tasks of every app when they are due (plumbing/periodic.py)."""

from __future__ import annotations

import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from plumbing.periodic import enqueue_due, requeue_abandoned_tasks

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Enqueue periodic tasks when due and queue again tasks whose worker died; run beside "
        "`manage.py db_worker` on one or more machines (or from cron with --once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue the periodic tasks that are due once and exit")
        parser.add_argument("--tick", type=float, default=30, help="seconds between checks (default 30)")

    def handle(self, *args, once: bool, tick: float, **options):
        while True:
            now = timezone.now()
            try:
                requeue_abandoned_tasks(now=now)
                for name in enqueue_due(now=now):
                    if options["verbosity"] > 1:
                        self.stdout.write(f"{now:%H:%M:%S} enqueued {name}")
            except DatabaseError:
                if once:
                    raise
                # A database restart: what was due is still due at the next tick.
                logger.exception("scheduler tick failed; trying again in %s s", tick)
                close_old_connections()
            if once:
                return
            time.sleep(tick)
