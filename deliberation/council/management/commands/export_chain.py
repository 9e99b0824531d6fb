"""Append the councils' chain links that FILE does not hold yet (JSON lines); earlier lines are never rewritten."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from deliberation.council.chain import ExportError, export_chain


class Command(BaseCommand):
    help = (
        "Append to FILE every council chain link it does not hold yet, one JSON line each (append-only). "
        "Keep FILE where whoever administers the database cannot rewrite it; check it with verify_results --against FILE."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            added = export_chain(path=file)
        except ExportError as error:
            raise CommandError(f"Nothing appended: the database disagrees with {file}. {error}") from error
        self.stdout.write(f"{added} link(s) appended to {file}.")
