from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "caseboard.patients"
    label = "patients"
