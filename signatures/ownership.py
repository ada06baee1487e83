"""Does a personal certificate belong to the person it is imported for?

A certificate names its holder in its subject (common name, given name and surname, e-mail address, user
id) and may list e-mail addresses in its subjectAltName. A person's name, e-mail address and username are
set by the agency's administrators, never by the person (accounts), so they are evidence a clerk cannot
bend to import a leader's certificate as their own. The evidence that matched is recorded in the import's
audit event; when none does, only an administrator of the agency may confirm the owner (services).

Names are compared the way Vietnamese is written: NFC, case, Đ/Ð and old/new tone placement folded
(`documents.text.normalize_vietnamese`). A common name written without any diacritics (many CAs issue
"NGUYEN VAN AN") matches the person's name with its diacritics removed; a common name with diacritics must
match them, so "Lê Văn Xù" is not "Lê Văn Xử"."""

from __future__ import annotations

import unicodedata

from cryptography import x509
from cryptography.x509.oid import NameOID

from documents.text import normalize_vietnamese

NAME = "name"
EMAIL = "email"
USER_ID = "user_id"


def _values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(attribute.value).strip() for attribute in name.get_attributes_for_oid(oid) if str(attribute.value).strip()]


def _without_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _has_marks(text: str) -> bool:
    return _without_marks(text) != text


def holder_names(certificate: x509.Certificate) -> list[str]:
    """The names the certificate gives its holder: common names, and surname + given name in both orders
    (Vietnamese puts the family name first, some CAs fill the two attributes the Western way)."""
    subject = certificate.subject
    names = _values(subject, NameOID.COMMON_NAME)
    surnames, given = _values(subject, NameOID.SURNAME), _values(subject, NameOID.GIVEN_NAME)
    for surname in surnames:
        for given_name in given:
            names += [f"{surname} {given_name}", f"{given_name} {surname}"]
    return names


def holder_emails(certificate: x509.Certificate) -> set[str]:
    emails = set(_values(certificate.subject, NameOID.EMAIL_ADDRESS))
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        emails.update(str(value).strip() for value in san.get_values_for_type(x509.RFC822Name))
    return {email.casefold() for email in emails if email}


def holder_label(certificate: x509.Certificate) -> str:
    """Who the certificate says it was issued to, for messages."""
    names = _values(certificate.subject, NameOID.COMMON_NAME)
    return names[0] if names else certificate.subject.rfc4514_string()


def _person_names(person) -> list[str]:
    names = [person.full_name, person.get_full_name(), f"{person.last_name} {person.first_name}"]
    return [name for name in names if name and name.strip()]


def names_match(certificate_name: str, person_name: str) -> bool:
    ours, theirs = normalize_vietnamese(certificate_name), normalize_vietnamese(person_name)
    if not ours or not theirs:
        return False
    if ours == theirs:
        return True
    return not _has_marks(ours) and ours == _without_marks(theirs)


def owner_evidence(certificate: x509.Certificate, person) -> str | None:
    """What in the certificate names `person` (NAME, EMAIL or USER_ID, the first found), or None."""
    person_names = _person_names(person)
    if any(names_match(name, own) for name in holder_names(certificate) for own in person_names):
        return NAME
    if person.email and person.email.strip().casefold() in holder_emails(certificate):
        return EMAIL
    username = (person.username or "").strip().casefold()
    if username and username in {uid.casefold() for uid in _values(certificate.subject, NameOID.USER_ID)}:
        return USER_ID
    return None
