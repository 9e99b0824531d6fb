"""`manage.py seed_demo`: the demo street in both languages, idempotent (a second run creates nothing).

Each part builds on the ones before it: the street (communities, people, notices and pages,
demo/street.py), its classes and activities (demo/activities.py), points and rewards
(demo/rewards.py), the mailbox and its councils (demo/mailbox.py, demo/council.py), neighbour help in
every grid (demo/neighbours.py). The residents are invented: seeding runs muted and tells none of them
anything.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from demo import activities, mailbox, neighbours, rewards, street
from outbox.services import muted


class Command(BaseCommand):
    help = "Create the demo street: communities, people, notices, pages, activities, points, letters and councils."

    def handle(self, *args, **options):
        password = make_password(street.DEMO_PASSWORD) if settings.DEBUG else make_password(None)
        with transaction.atomic(), muted():  # the residents are invented: tell none of them anything
            street.seed(password_hash=password)
            activities.seed()
            rewards.seed()
            mailbox.seed()
            neighbours.seed()
        self.stdout.write("\n".join(part.summary() for part in (street, activities, rewards, mailbox, neighbours)))
        if settings.DEBUG:
            self.stdout.write("Demo users (demo-*) log in with DEMO_PASSWORD from demo/street.py.")
        else:
            self.stdout.write("Demo users (demo-*) have no usable password (DEBUG is off).")
