from django.contrib.auth import views as auth_views
from django.urls import include, path

from caseboard.api.routes import api
from caseboard.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "account/login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/verify/", views.verify_second_factor, name="verify_second_factor"),
    path("account/security/", views.security, name="security"),
    path("patients/", include("caseboard.patients.urls")),
    path("partnerships/", include("caseboard.orgs.urls")),
    path("audit/", include("caseboard.audit.urls")),
    path("care/", include("caseboard.care.urls")),
    path("conference/", include("caseboard.conference.urls")),
    path("transitions/", include("caseboard.transitions.urls")),
    path("api/", api.urls),
]
