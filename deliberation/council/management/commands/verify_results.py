"""Check the councils' chains (results, and the keyed chain of votes, ballots, attendance, recusals, results and
minutes), optionally against an exported copy: prints OK with the counts, or each problem and exits 1."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from deliberation.council.chain import ExportError
from deliberation.council.models import ChainLink, Council, Result
from deliberation.council.services import verify_results


class Command(BaseCommand):
    help = (
        "Verify that no stored council result, vote, ballot, attendance, recusal or published minutes was changed, "
        "removed or inserted (keyed chain per council), optionally against a copy made by export_chain."
    )

    def add_arguments(self, parser):
        parser.add_argument("--council", type=int, help="Only the council with this id.")
        parser.add_argument(
            "--against",
            type=Path,
            help="A file written by `manage.py export_chain`: every link in it must be in the database, unchanged.",
        )

    def handle(self, *args, council=None, against=None, **options):
        chosen = None
        if council is not None:
            chosen = Council.objects.filter(pk=council).first()
            if chosen is None:
                raise CommandError(f"There is no council {council}.")
        if against is not None and not against.is_file():
            raise CommandError(f"There is no file {against}.")
        try:
            problems = verify_results(council=chosen, against=against)
        except ExportError as error:
            raise CommandError(str(error)) from error
        if problems:
            for problem in problems:
                self.stdout.write(problem)
            raise CommandError(f"{len(problems)} problem(s) in the stored results.")
        results = Result.objects.filter(council=chosen) if chosen else Result.objects.all()
        links = ChainLink.objects.filter(council=chosen) if chosen else ChainLink.objects.all()
        self.stdout.write(f"OK: {results.count()} result(s) and {links.count()} chain link(s) verified.")
