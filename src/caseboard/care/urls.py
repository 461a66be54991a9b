from django.urls import URLPattern

from caseboard.care.views import careplan, referrals, registry, tasks

urlpatterns: list[URLPattern] = [
    *registry.urlpatterns,
    *careplan.urlpatterns,
    *tasks.urlpatterns,
    *referrals.urlpatterns,
]
