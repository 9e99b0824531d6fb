"""Photos residents attach to letters: checked, cleaned of their metadata and scaled down (plumbing/photos.py)."""

from __future__ import annotations

from django.core.files import File

from deliberation.mailbox.services.access import PhotoError
from plumbing import photos
from plumbing.photos import MAX_PHOTO_PIXELS, PHOTO_FORMATS, PHOTO_LONGEST_SIDE, CleanPhoto

__all__ = ["MAX_PHOTO_PIXELS", "PHOTO_FORMATS", "PHOTO_LONGEST_SIDE", "CleanPhoto", "clean_photo"]

MAX_PHOTOS = 3


MAX_PHOTO_BYTES = 8 * 1024 * 1024


MAX_MAIL_PHOTO_BYTES = 25 * 1024 * 1024  # a phone's photo e-mailed at full size; it is scaled down anyway


def clean_photo(*, data: bytes | File, name: str = "", max_bytes: int | None = None) -> CleanPhoto:
    """`plumbing.photos.clean_photo` with the mailbox's size limits and its own error."""
    try:
        return photos.clean_photo(data=data, name=name, max_bytes=max_bytes or MAX_PHOTO_BYTES)
    except photos.PhotoError as error:
        raise PhotoError(str(error)) from error
