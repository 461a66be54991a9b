from django.urls import URLPattern

from caseboard.conference import views

urlpatterns: list[URLPattern] = [*views.urlpatterns]
