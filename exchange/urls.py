"""Web routes of the exchange (included at /exchange/)."""

from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/register/", views.register, name="register"),
    path("deliveries/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("deliveries/<int:pk>/return/", views.return_to_sender, name="return"),
    path("deliveries/<int:pk>/take-back/", views.answer_take_back, name="answer_take_back"),
    path("deliveries/<int:pk>/ask-back/", views.ask_back, name="ask_back"),
    path("deliveries/<int:pk>/files/<int:file_id>/", views.delivery_file, name="delivery_file"),
    path("received/<int:document_id>/", views.received, name="received"),
    path("documents/<int:document_id>/recall/", views.recall, name="recall"),
    path("documents/<int:document_id>/replaces/", views.link_replacement, name="link_replacement"),
    path("documents/<int:document_id>/report.pdf", views.delivery_report, name="report"),
]
