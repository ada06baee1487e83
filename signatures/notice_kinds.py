"""The kinds of notice signatures tells (eoffice.notices), imported once from SignaturesConfig.ready().

A certificate that expires soon (signatures/reminders.py): the text is rendered in each reader's language when
shown or mailed, from `subject` (the certificate's subject), `date` (dd/mm/yyyy), `days` and, for a seal, `agency`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from eoffice.notices import register_kind

PERSONAL_EXPIRING = "signatures.certificate_expiring"
SEAL_EXPIRING = "signatures.seal_expiring"
CA_EXPIRING = "signatures.ca_expiring"

register_kind(PERSONAL_EXPIRING, _("A signing certificate expires soon"),
              _("The personal signing certificate %(subject)s expires on %(date)s (in %(days)s days). Renew it and "
                "import the new certificate before then, or documents cannot be signed with it."))
register_kind(SEAL_EXPIRING, _("A seal certificate of my agency expires soon"),
              _("The seal certificate %(subject)s of %(agency)s expires on %(date)s (in %(days)s days). Renew it and "
                "import the new certificate before then, or documents cannot be sealed."))
register_kind(CA_EXPIRING, _("A trusted CA certificate expires soon"),
              _("The trusted CA certificate %(subject)s expires on %(date)s (in %(days)s days). Import its renewed "
                "certificate into the trust store before then."))
