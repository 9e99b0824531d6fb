"""Enqueue the periodic background tasks of every app when they are due (home/periodic.py)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from home.periodic import registered


class Command(BaseCommand):
    help = "Enqueue periodic tasks when due; run beside `manage.py db_worker` (or once from cron with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue every periodic task once and exit")
        parser.add_argument("--tick", type=float, default=30, help="seconds between checks (default 30)")

    def handle(self, *args, once: bool, tick: float, **options):
        tasks = registered()
        last_enqueued: dict[str, object] = {}
        while True:
            now = timezone.now()
            for periodic in tasks:
                previous = last_enqueued.get(periodic.name)
                if previous is None or now - previous >= periodic.every:
                    periodic.task.enqueue()
                    last_enqueued[periodic.name] = now
                    if options["verbosity"] > 1:
                        self.stdout.write(f"{now:%H:%M:%S} enqueued {periodic.name}")
            if once:
                return
            time.sleep(tick)
