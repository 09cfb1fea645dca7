from django.urls import path
from django.views.generic import RedirectView

from tasks_app.views import assets, documents, shell, upload, viewer

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tasks", permanent=False), name="home"),
    path("tasks/", documents.task_list, name="tasks"),
    path("tasks/count/", documents.task_count, name="task-count"),
    path("tasks/bulk/", documents.task_bulk, name="task-bulk"),
    path("tasks/<uuid:task_id>/", viewer.task_detail, name="task-detail"),
    path("tasks/<uuid:task_id>/row/", documents.task_row, name="task-row"),
    path("tasks/<uuid:task_id>/chip/", documents.task_chip, name="task-chip"),
    path("tasks/<uuid:task_id>/body/", viewer.task_body, name="task-body"),
    path("tasks/<uuid:task_id>/pages/<int:page>/segments/", viewer.page_segments, name="task-page-segments"),
    path("tasks/<uuid:task_id>/segments/<str:segment_id>/", viewer.segment_detail, name="task-segment"),
    path("tasks/<uuid:task_id>/chunks/", viewer.chunk_list, name="task-chunks"),
    path("tasks/<uuid:task_id>/download/<str:fmt>/", viewer.task_download, name="task-download"),
    path("tasks/<uuid:task_id>/<str:action>/", viewer.task_action, name="task-action"),
    path("upload/", upload.upload, name="upload"),
    path("upload/file/", upload.upload_file, name="upload-file"),
    path("upload/url/", upload.upload_url, name="upload-url"),
    path("upload/panel/", upload.preset_panel, name="upload-panel"),
    path("upload/presets/", upload.preset_create, name="preset-create"),
    path("upload/presets/<uuid:preset_id>/delete/", upload.preset_remove, name="preset-delete"),
    path("schemas/", shell.schema_list, name="schemas"),
    path("settings/", shell.workspace_settings, name="settings"),
    path("settings/api-keys/", shell.api_key_create_view, name="api-key-create"),
    path("settings/api-keys/<uuid:key_id>/revoke/", shell.api_key_revoke_view, name="api-key-revoke"),
    path("settings/webhooks/", shell.webhook_create_view, name="webhook-create"),
    path("settings/webhooks/<uuid:endpoint_id>/delete/", shell.webhook_delete_view, name="webhook-delete"),
    path("assets/<str:token>", assets.asset, name="asset"),
    path("workspace/switch/", shell.workspace_switch, name="workspace-switch"),
]
