from caseboard.transitions.views import urlpatterns

__all__ = ["urlpatterns"]
