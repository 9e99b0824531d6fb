"""`manage.py fetch_mail`: fetch letters from the community mailbox over IMAP now."""

from django.core.management.base import BaseCommand, CommandError

from deliberation.mailbox.fetching import ImapAccount, fetch_mail


class Command(BaseCommand):
    help = "Fetch new letters from the mailbox (MAILBOX_IMAP_* settings); safe to stop and run again."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="At most this many messages.")

    def handle(self, *args, **options):
        account = ImapAccount.from_settings()
        if account is None:
            raise CommandError("No mailbox configured: set MAILBOX_IMAP_HOST (and _PORT, _USER, _PASSWORD, _FOLDER, _SSL).")
        report = fetch_mail(account=account, limit=options["limit"])
        self.stdout.write(str(report))
