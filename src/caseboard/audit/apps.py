from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "caseboard.audit"
    label = "audit"
    verbose_name = "Audit log"
