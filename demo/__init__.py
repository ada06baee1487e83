"""The demo province (Hòa Bình): `manage.py seed_demo` and `manage.py create_demo_pki`.

One module per app it fills (accounts, documents, workflows, signatures), run in that order by the
command. The demo depends on every app and no app imports it: delete it and the product still works.
"""
