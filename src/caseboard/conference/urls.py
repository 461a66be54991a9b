from django.urls import URLPattern

from caseboard.conference import run_views, views

urlpatterns: list[URLPattern] = [*views.urlpatterns, *run_views.urlpatterns]
