from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "caseboard.demo"
    label = "demo"
    verbose_name = "Demo population"
