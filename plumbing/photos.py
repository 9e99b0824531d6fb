"""Photos people upload (letters, neighbour-help posts): checked, cleaned of their metadata and scaled down.

No domain knowledge: each app wraps `clean_photo` with its own limits and turns `PhotoError` into its own error.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

from django.core.files import File
from django.utils.translation import gettext as _


class PhotoError(ValueError):
    """An upload that is not a photo, too large, or has too many pixels; the message says which, for the uploader."""


MAX_PHOTO_BYTES = 8 * 1024 * 1024


MAX_PHOTO_PIXELS = 40_000_000


PHOTO_LONGEST_SIDE = 2000


# HEIF is what iPhones take photos in (pillow-heif reads it); it is kept as JPEG.
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}


@dataclass(frozen=True)
class CleanPhoto:
    content_type: str
    data: bytes
    width: int
    height: int


def clean_photo(*, data: bytes | File, name: str = "", max_bytes: int | None = None) -> CleanPhoto:
    """Check that `data` is a JPEG, PNG, WebP or HEIC image and re-encode it without EXIF, GPS or other metadata.

    `data` is the photo's bytes or an uploaded file, whose size is checked before anything
    is read. The pixel count is read from the header before any pixel is decoded; a JPEG is
    decoded at the smallest of its built-in scales (1/2, 1/4, 1/8) that still covers the
    size kept, and every photo is scaled down in place at once, so that a 40 Mpx photo
    costs at most one decoded image in memory (a JPEG much less).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    max_bytes = max_bytes or MAX_PHOTO_BYTES  # web uploads; the mailbox passes more for e-mailed photos
    size = len(data) if isinstance(data, bytes) else data.size
    if size is None or size > max_bytes:
        raise PhotoError(
            _("%(name)s is too large: photos may be at most %(size)d MB.") % {"name": name, "size": max_bytes // (1024 * 1024)}
        )
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    not_an_image = PhotoError(_("%(name)s is not a photo (JPEG, PNG, WebP or HEIC).") % {"name": name})
    too_many_pixels = PhotoError(
        _("%(name)s has too many pixels: photos may have at most %(count)d million.")
        % {"name": name, "count": MAX_PHOTO_PIXELS // 1_000_000}
    )
    try:
        with _open_image(source) as probe:
            if probe.format not in PHOTO_FORMATS:
                raise not_an_image
            if probe.width * probe.height > MAX_PHOTO_PIXELS:
                raise too_many_pixels
            probe.verify()
        with _open_image(source) as image:
            image_format = image.format
            # Decoded straight to (about) the size kept: draft() for JPEG, then thumbnail() in place.
            image.draft(None, (PHOTO_LONGEST_SIDE, PHOTO_LONGEST_SIDE))
            # reducing_gap=1: a box reduction by the whole factor first, so the resampling's
            # intermediate image is small (quality is the same at the size kept).
            image.thumbnail((PHOTO_LONGEST_SIDE, PHOTO_LONGEST_SIDE), reducing_gap=1.0)
            upright = ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow refuses over 179 Mpx and warns over 89 Mpx (the warning is an error where
        # warnings are errors, as in the tests); either way the photo has too many pixels.
        raise too_many_pixels from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise not_an_image from error
    if upright.mode not in ("RGB", "RGBA", "L"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
    # A new image from the pixels alone: no EXIF, GPS, XMP, ICC comments or text chunks survive.
    bare = Image.new(upright.mode, upright.size)
    bare.paste(upright)
    out = io.BytesIO()
    if image_format in ("JPEG", "HEIF"):
        bare.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
        content_type = "image/jpeg"
    else:
        bare.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    return CleanPhoto(content_type=content_type, data=out.getvalue(), width=bare.width, height=bare.height)


def _open_image(source):
    """Pillow's open (which reads only the header), restricted to the photo formats."""
    from PIL import Image

    _register_heif()
    source.seek(0)
    return Image.open(source, formats=list(PHOTO_FORMATS))


@functools.cache
def _register_heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
