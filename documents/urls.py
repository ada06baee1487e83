from django.urls import path

from . import register_views, views

app_name = "documents"

urlpatterns = [
    path("", views.document_list, name="list"),
    path("outgoing/new/", views.register_outgoing, name="register_outgoing"),
    path("incoming/new/", views.register_incoming, name="register_incoming"),
    path("incoming/duplicates/", views.check_duplicates, name="check_duplicates"),
    path("<int:pk>/", views.document_detail, name="detail"),
    path("<int:pk>/files/<int:file_id>/", views.file_download, name="file_download"),
    path("<int:pk>/files/<int:file_id>/preview/", views.file_preview, name="file_preview"),
    path("<int:pk>/files/<int:file_id>/pages/<int:page>/", views.file_page, name="file_page"),
    path("registers/", register_views.register_index, name="registers"),
    path("registers/<int:register_id>/print.<str:fmt>", register_views.register_print, name="register_print"),
]
