import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from home import services
from plumbing.links import absolute_url


class Command(BaseCommand):
    help = "Create (or reset) the local superuser for development and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@linli.localhost")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("create_local_admin is for development only (DEBUG is off).")
        email = options["email"]
        User = get_user_model()
        user = User.objects.filter(username="admin").first() or User(username="admin")
        password = secrets.token_urlsafe(12)
        user.email = email
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        services.get_or_create_profile(user=user)
        self.stdout.write(
            self.style.SUCCESS(f"\n  Local admin — {absolute_url('/admin/')}\n  e-mail:   {email}\n  password: {password}\n")
        )
