from django.apps import AppConfig


class DemoConfig(AppConfig):
    """No models and no pages: data for the other apps, and `manage.py seed_demo`."""

    name = "demo"
