from django.urls import path

from caseboard.patients import views

urlpatterns = [
    path("", views.search, name="patient_search"),
    path("<int:patient_id>/", views.profile, name="patient_profile"),
    path("roster/", views.roster_upload, name="roster_upload"),
    path("roster/<int:import_id>/", views.roster_import, name="roster_import"),
    path("roster/<int:import_id>/bad-rows.csv", views.roster_errors_csv, name="roster_errors_csv"),
]
