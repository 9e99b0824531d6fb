"""`manage.py points_audit`: prove the ledger consistent; exit status 1 on any mismatch."""

from django.core.management.base import BaseCommand, CommandError

from points.services import audit


class Command(BaseCommand):
    help = "Check balance == sum of entries == sum of lot remainders for every resident; non-zero exit on mismatch."

    def handle(self, *args, **options):
        problems = audit()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"points audit: {len(problems)} problem(s)")
        self.stdout.write("points audit: clean")
