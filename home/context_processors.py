"""Values every template needs: text size and the current language."""

from django.utils import translation

from plumbing.middleware import TEXT_SIZE_COOKIE


def portal(request):
    cookie = request.COOKIES.get(TEXT_SIZE_COOKIE)
    if cookie is not None:
        large = cookie == "large"
    else:
        # A resident on a new device still gets the text size saved in their profile.
        user = getattr(request, "user", None)
        profile = getattr(user, "profile", None) if user is not None and user.is_authenticated else None
        large = bool(profile and profile.large_text)
    return {"large_text": large, "LANGUAGE": translation.get_language()}
