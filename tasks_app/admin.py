from django.contrib import admin

from tasks_app import models


@admin.register(models.Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "default_expires_in", "created_at")
    search_fields = ("name",)


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role",)


@admin.register(models.ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "workspace", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest")


@admin.register(models.Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("task_id", "task_type", "status", "file_name", "workspace", "created_at")
    list_filter = ("status", "task_type")
    search_fields = ("task_id", "file_name")


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "workspace", "verb", "target_type", "target_id", "actor_user", "actor_key")
    list_filter = ("verb",)
