from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "caseboard.orgs"
    label = "orgs"
    verbose_name = "Organizations"
