"""The JSON API for phone clients (/api/v1/): the shared core; each app contributes its own router (`<app>/api.py`)."""
