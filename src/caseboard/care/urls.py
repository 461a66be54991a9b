from django.urls import URLPattern

from caseboard.care.views import careplan, referrals, registry, screening, surveys, tasks

urlpatterns: list[URLPattern] = [
    *registry.urlpatterns,
    *careplan.urlpatterns,
    *tasks.urlpatterns,
    *surveys.urlpatterns,
    *screening.urlpatterns,
    *referrals.urlpatterns,
]
