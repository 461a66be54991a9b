from django.apps import AppConfig


class TransitionsConfig(AppConfig):
    name = "caseboard.transitions"
    label = "transitions"
    verbose_name = "Transitions of care"
