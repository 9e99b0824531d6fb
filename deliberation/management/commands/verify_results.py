"""Check the councils' chains of stored results: prints OK with the count, or each problem and exits 1."""

from django.core.management.base import BaseCommand, CommandError

from deliberation.models import Council, Result
from deliberation.services.council import verify_results


class Command(BaseCommand):
    help = "Verify that no stored council result was changed, removed or inserted (hash chain per council)."

    def add_arguments(self, parser):
        parser.add_argument("--council", type=int, help="Only the council with this id.")

    def handle(self, *args, council=None, **options):
        chosen = None
        if council is not None:
            chosen = Council.objects.filter(pk=council).first()
            if chosen is None:
                raise CommandError(f"There is no council {council}.")
        problems = verify_results(council=chosen)
        if problems:
            for problem in problems:
                self.stdout.write(problem)
            raise CommandError(f"{len(problems)} problem(s) in the stored results.")
        results = Result.objects.filter(council=chosen) if chosen else Result.objects.all()
        self.stdout.write(f"OK: {results.count()} result(s) verified.")
