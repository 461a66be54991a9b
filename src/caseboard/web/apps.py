from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "caseboard.web"
    label = "web"
    verbose_name = "Web shell"
