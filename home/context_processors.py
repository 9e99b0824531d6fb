"""Values every template needs: text size and the current language."""

from django.utils import translation

from .middleware import TEXT_SIZE_COOKIE


def portal(request):
    large = request.COOKIES.get(TEXT_SIZE_COOKIE) == "large"
    return {"large_text": large, "LANGUAGE": translation.get_language()}
