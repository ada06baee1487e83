from django.urls import path

from . import views

app_name = "records"

urlpatterns = [
    path("", views.home, name="home"),
    path("catalogues/", views.catalogues, name="catalogues"),
    path("catalogues/<int:pk>/", views.catalogue, name="catalogue"),
    path("catalogues/<int:pk>/print.<str:fmt>", views.catalogue_print, name="catalogue_print"),
    path("catalogues/entries/<int:pk>/open/", views.open_from_entry, name="open_from_entry"),
    path("files/", views.files, name="files"),
    path("files/new/", views.open_file, name="open_file"),
    path("files/<int:pk>/", views.file_detail, name="file"),
    path("files/<int:pk>/index.pdf", views.document_index, name="document_index"),
    path("files/<int:pk>/<slug:action>/", views.file_action, name="file_action"),
    path("documents/<int:document_id>/add/", views.add_from_document, name="add_from_document"),
    path("exports/<int:pk>/", views.export_state, name="export_state"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer"),
    path("transfers/<int:pk>/<slug:what>.pdf", views.transfer_print, name="transfer_print"),
    path("archive/", views.archive, name="archive"),
    path("dispositions/", views.dispositions, name="dispositions"),
    path("dispositions/<int:pk>/", views.disposition_detail, name="disposition"),
    path("retention/", views.retention, name="retention"),
    path("imports/", views.imports, name="imports"),
]
