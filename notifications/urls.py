"""Web routes of notices (included as path("notifications/", include("notifications.urls")))."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notice_list, name="list"),
    path("unread-count/", views.unread_count, name="count"),
    path("read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("preferences/", views.preferences, name="preferences"),
    path("<int:pk>/open/", views.open_notice, name="open"),
]
