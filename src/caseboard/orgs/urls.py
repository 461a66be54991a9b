from django.urls import path

from caseboard.orgs import views

urlpatterns = [
    path("", views.partnerships, name="partnerships"),
    path("<int:partnership_id>/directory/", views.directory, name="team_directory"),
    path("switch/", views.switch_organization, name="switch_organization"),
]
