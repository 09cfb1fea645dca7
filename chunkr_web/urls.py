from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from chunkr_web.api import api
from tasks_app.views.metrics import metrics_view

handler500 = "chunkr_web.failures.server_error"  # a lost database: 503 + Retry-After, never a traceback

urlpatterns = [
    path("api/v1/", api.urls),
    path("metrics", metrics_view, name="metrics"),  # Prometheus; token or private address (docs/OBSERVABILITY.md)
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("tasks_app.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
