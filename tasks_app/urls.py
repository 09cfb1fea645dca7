from django.urls import path
from django.views.generic import RedirectView

from tasks_app.views import assets, shell

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tasks", permanent=False), name="home"),
    path("tasks/", shell.task_list, name="tasks"),
    path("upload/", shell.upload, name="upload"),
    path("schemas/", shell.schema_list, name="schemas"),
    path("settings/", shell.workspace_settings, name="settings"),
    path("settings/api-keys/", shell.api_key_create_view, name="api-key-create"),
    path("settings/api-keys/<uuid:key_id>/revoke/", shell.api_key_revoke_view, name="api-key-revoke"),
    path("settings/webhooks/", shell.webhook_create_view, name="webhook-create"),
    path("settings/webhooks/<uuid:endpoint_id>/delete/", shell.webhook_delete_view, name="webhook-delete"),
    path("assets/<str:token>", assets.asset, name="asset"),
    path("workspace/switch/", shell.workspace_switch, name="workspace-switch"),
]
