from django.urls import path

from . import account_views, two_factor_views, views

app_name = "accounts"

urlpatterns = [
    path("", views.settings_overview, name="settings"),
    path("account/", account_views.my_account, name="account"),
    path("account/password/", account_views.change_password, name="change_password"),
    path("account/logout-everywhere/", account_views.logout_everywhere, name="logout_everywhere"),
    path("account/two-factor/", two_factor_views.overview, name="two_factor"),
    path("account/two-factor/start/", two_factor_views.start, name="two_factor_start"),
    path("account/two-factor/confirm/", two_factor_views.confirm, name="two_factor_confirm"),
    path("account/two-factor/backup-codes/", two_factor_views.regenerate, name="two_factor_regenerate"),
    path("account/two-factor/remove/", two_factor_views.remove, name="two_factor_remove"),
    path("account/verify/", two_factor_views.verify, name="otp_verify"),
]
