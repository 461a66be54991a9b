from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "caseboard.care"
    label = "care"
    verbose_name = "Care management"
