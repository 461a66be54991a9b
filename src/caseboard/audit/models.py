"""The append-only audit log of every read and write of patient data (DESIGN §5).

Rows are only ever inserted. The model refuses updates and deletes; on PostgreSQL a trigger
refuses them too, so not even a raw SQL statement from the application can alter history.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    EXPORT = "export", "Exported"
    IMPORT = "import", "Imported"


class AppendOnlyError(Exception):
    pass


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Plain columns rather than foreign keys: history must outlive the rows it speaks of, and a
    # cascading SET NULL would be an update of the log.
    user_id = models.BigIntegerField(null=True, db_index=True)
    username = models.CharField(max_length=150)
    organization_id = models.BigIntegerField(null=True, db_index=True)
    organization_name = models.CharField(max_length=200, blank=True, default="")
    patient_id = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    client_address = models.CharField(max_length=64, blank=True, default="")
    path = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")
