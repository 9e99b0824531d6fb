"""URLs: language-independent endpoints first, then everything under /zh-hans/ or /en/."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from api.urls import api
from events import views as events_views
from home import admin_views as home_admin_views
from home import api_auth as home_api_auth
from home import views as home_views

# A database that cannot be reached answers 503 with Retry-After, other faults 500 (static pages).
handler500 = home_views.server_error

urlpatterns = [
    path("", home_views.root, name="root"),
    path("healthz", home_views.healthz, name="healthz"),
    path("healthz/outbox", home_views.healthz_outbox, name="healthz_outbox"),
    path("robots.txt", home_views.robots_txt, name="robots_txt"),
    path("sitemap.xml", home_views.sitemap_xml, name="sitemap"),
    path("text-size/", home_views.set_text_size, name="set_text_size"),
    path("language/<str:language>/", home_views.set_language, name="set_language"),
    # Both admins log in through allauth (rate limits, TOTP).
    path("admin/login/", home_views.wagtail_admin_login),
    path("django-admin/login/", home_views.django_admin_login),
    path("admin/", include(home_admin_views)),  # guards in front of Wagtail's explorer and chooser
    path("admin/", include(wagtailadmin_urls)),
    path("django-admin/", admin.site.urls),
    path("documents/", include(wagtaildocs_urls)),
    # A resident's private calendar feed: no language prefix, calendar apps keep the address.
    path("calendar/<str:token>.ics", events_views.calendar_feed, name="calendar_feed"),
    # The JSON API for phone clients and its log-in (allauth headless): the language comes from Accept-Language.
    path("api/v1/", api.urls),
    # allauth's code request with the portal's rules (a number or an address; the limits on texts), before its own.
    path("_allauth/app/v1/auth/code/request", home_api_auth.RequestLoginCodeView.as_api_view(client="app")),
    path("_allauth/", include("allauth.headless.urls")),
]

urlpatterns += i18n_patterns(
    path("accounts/", include("allauth.urls")),
    path("", include("home.urls")),
    path("", include("events.urls")),
    path("", include("deliberation.mailbox.urls")),
    path("", include("deliberation.council.urls")),
    path("", include("deliberation.followup.urls")),
    path("", include("points.urls")),
    path("", include("neighbours.urls")),
    path("", include("outbox.urls")),
    path("", include(wagtail_urls)),
    prefix_default_language=True,
)

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
