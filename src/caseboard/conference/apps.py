from django.apps import AppConfig


class ConferenceConfig(AppConfig):
    name = "caseboard.conference"
    label = "conference"
    verbose_name = "Case conferences"
