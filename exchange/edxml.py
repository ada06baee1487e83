"""edXML packages (QCVN 102:2016, reference §2.2–2.4): build, sign, parse, verify and validate.

Pure functions over plain data classes, no database: `exchange.outbound` fills the data from a delivery and
signs in the exchange worker, `exchange.inbound` turns a verified package into rows. The envelope is signed as
an enveloped XML signature (RSA-SHA256, Reference URI="" so the attachments are covered, the seal certificate
and its chain in KeyInfo) by signxml over lxml: no canonicalisation of our own.

Every refusal is a `PackageRefused` with a stable `code` for programs and a message for people."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.utils.translation import gettext as _
from lxml import etree
from signxml import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod, XMLSigner, XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration

from signatures.signers import KeyHolder

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
DS = "http://www.w3.org/2000/09/xmldsig#"
NSMAP = {"edXML": NS}
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

DATE_FORMAT = "%Y/%m/%d"
TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S"
VIETNAM = dt.timezone(dt.timedelta(hours=7))
"""Package dates and times are Vietnamese local time (the samples carry no offset)."""

ORGAN_ID = re.compile(r"^[.0-9A-Z]{1,35}$")
STATUS_CODES = ("01", "02", "03", "04", "05", "06", "13", "15", "16")
PRIORITIES = (0, 1, 2, 3, 4)
BUSINESS_TYPES = (0, 1, 2, 3)
STEERING_TYPES = (0, 1, 2)
DOCUMENT_TYPES = (1, 2)

# Field lengths: reference §2.2 (Bkav's Checker.java) where it gives one, else our model's column.
MAX = {
    "Subject": 500, "Content": 500, "Place": 50, "TypeName": 100, "TyperNotation": 10, "AttachmentName": 500,
    "OrganName": 200, "CodeNumber": 11, "CodeNotation": 30, "DocumentId": 120, "ToPlace": 150,
    "SphereOfPromulgation": 100, "Description": 500, "BussinessDocReason": 500, "FullName": 50, "Position": 100,
    "Competence": 50, "OrganAdd": 300, "Email": 254, "Telephone": 40, "ContentType": 100,
}
SIGNATURE_METHODS = frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512,
                               SignatureMethod.ECDSA_SHA256, SignatureMethod.ECDSA_SHA384,
                               SignatureMethod.ECDSA_SHA512})
DIGESTS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})


class PackageRefused(Exception):
    """The package cannot be accepted. `code`: too_large, malformed, doctype, unsigned, bad_signature,
    wrong_certificate, untrusted_certificate, unknown_peer, invalid, replayed, stale, unknown_document,
    unknown_recipient, state, inactive_peer."""

    def __init__(self, code: str, message: str, *, http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# --- the data ---------------------------------------------------------------------------------------------


@dataclass
class Organ:
    organ_id: str
    name: str
    organization_in_charge: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass
class Attachment:
    name: str
    content_type: str
    content: bytes
    description: str = ""


@dataclass
class Edoc:
    """A document package (messagetype "edoc"): a new document (business type 0) or a recall of one already
    sent (1); 2 and 3 name the document updated or replaced in `business_document_id`."""

    sender: Organ
    recipients: list[Organ]
    document_id: str
    code_number: str
    code_notation: str
    place: str
    promulgation_date: dt.date
    type_name: str
    subject: str
    timestamp: dt.datetime
    type_code: int = 1
    type_detail: str = "0"
    content: str = ""
    signer_competence: str = ""
    signer_position: str = ""
    signer_name: str = ""
    due_date: dt.date | None = None
    to_places: list[str] = field(default_factory=list)
    priority: int = 0
    sphere: str = ""
    typer_notation: str = ""
    promulgation_amount: int | None = None
    page_amount: int | None = None
    steering_type: int = 0
    business_type: int = 0
    business_reason: str = ""
    business_document_id: str = ""
    paper: int = 0
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Status:
    """A status package (messagetype "status", reference §2.4) about the document `document_id` issued by
    `document_organ_id`: 01–06, 02 and 15/16 from the recipient, 13 from the sender."""

    sender: Organ
    recipient_organ_id: str
    document_organ_id: str
    document_id: str
    code: str
    promulgation_date: dt.date
    status_code: str
    timestamp: dt.datetime
    description: str = ""
    staff_name: str = ""
    staff_department: str = ""


# --- building and signing ---------------------------------------------------------------------------------


def _el(parent: etree._Element, tag: str, text: object = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = str(text)
    return element


def _organ(parent: etree._Element, tag: str, organ: Organ) -> None:
    node = _el(parent, tag)
    _el(node, "OrganId", organ.organ_id)
    _el(node, "OrganizationInCharge", organ.organization_in_charge)
    _el(node, "OrganName", organ.name)
    _el(node, "OrganAdd", organ.address)
    _el(node, "Email", organ.email)
    _el(node, "Telephone", organ.telephone)
    _el(node, "Fax", organ.fax)
    _el(node, "Website", organ.website)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(VIETNAM).strftime(TIMESTAMP_FORMAT)


def _root() -> tuple[etree._Element, etree._Element, etree._Element]:
    root = etree.Element(f"{{{NS}}}edXML", nsmap=NSMAP)
    envelope = _el(root, "edXMLEnvelope")
    header = _el(envelope, "edXMLHeader")
    return root, envelope, header


def build_edoc(edoc: Edoc) -> etree._Element:
    """The unsigned edoc package, elements in the order of the reference's structure."""
    root, envelope, header = _root()
    message = _el(header, "MessageHeader")
    _organ(message, "From", edoc.sender)
    for recipient in edoc.recipients:
        _organ(message, "To", recipient)
    _el(message, "DocumentId", edoc.document_id)
    code = _el(message, "Code")
    _el(code, "CodeNumber", edoc.code_number)
    _el(code, "CodeNotation", edoc.code_notation)
    promulgation = _el(message, "PromulgationInfo")
    _el(promulgation, "Place", edoc.place)
    _el(promulgation, "PromulgationDate", edoc.promulgation_date.strftime(DATE_FORMAT))
    document_type = _el(message, "DocumentType")
    _el(document_type, "Type", edoc.type_code)
    _el(document_type, "TypeDetail", edoc.type_detail)
    _el(document_type, "TypeName", edoc.type_name)
    _el(message, "Subject", edoc.subject)
    _el(message, "Content", edoc.content)
    signer = _el(message, "SignerInfo")
    _el(signer, "Competence", edoc.signer_competence)
    _el(signer, "Position", edoc.signer_position)
    _el(signer, "FullName", edoc.signer_name)
    _el(message, "DueDate", edoc.due_date.strftime(DATE_FORMAT) if edoc.due_date else "")
    places = _el(message, "ToPlaces")
    for place in edoc.to_places:
        _el(places, "Place", place)
    other = _el(message, "OtherInfo")
    _el(other, "Priority", edoc.priority)
    _el(other, "SphereOfPromulgation", edoc.sphere)
    _el(other, "TyperNotation", edoc.typer_notation)
    _el(other, "PromulgationAmount", edoc.promulgation_amount if edoc.promulgation_amount is not None else "")
    _el(other, "PageAmount", edoc.page_amount if edoc.page_amount is not None else "")
    _el(other, "Direction", "false")
    _el(other, "Appendixes")
    _el(message, "SteeringType", edoc.steering_type)
    traces = _el(header, "TraceHeaderList")
    trace = _el(traces, "TraceHeader")
    _el(trace, "OrganId", edoc.sender.organ_id)
    _el(trace, "Timestamp", _stamp(edoc.timestamp))
    business = _el(traces, "Bussiness")
    if edoc.business_document_id:
        _el(business, "DocumentId", edoc.business_document_id)
    _el(business, "BussinessDocType", edoc.business_type)
    _el(business, "BussinessDocReason", edoc.business_reason)
    _el(business, "Paper", edoc.paper)
    body = _el(envelope, "edXMLBody")
    manifest = _el(body, "edXMLManifest")
    manifest.set("version", "1.0")
    encoded = _el(root, "AttachmentEncoded")
    for index, attachment in enumerate(edoc.attachments, start=1):
        content_id = f"cid:{index}"
        reference = _el(manifest, "Reference")
        _el(reference, "ContentId", content_id)
        _el(reference, "ContentType", attachment.content_type)
        _el(reference, "Description", attachment.description)
        _el(reference, "AttachmentName", attachment.name)
        node = _el(encoded, "Attachment")
        _el(node, "ContentId", content_id)
        _el(node, "AttachmentName", attachment.name)
        _el(node, "Description", attachment.description)
        _el(node, "ContentType", attachment.content_type)
        _el(node, "ContentTransferEncoded", base64.b64encode(attachment.content).decode("ascii"))
    return root


def build_status(status: Status) -> etree._Element:
    """The unsigned status package: From, To (the organ it is meant for: the samples leave it to the transport,
    we carry it so a peer serving several agencies can route it), ResponseFor, StaffInfo, StatusCode,
    Description, Timestamp."""
    root, envelope, header = _root()
    message = _el(header, "MessageHeader")
    _organ(message, "From", status.sender)
    to = _el(message, "To")
    _el(to, "OrganId", status.recipient_organ_id)
    response = _el(message, "ResponseFor")
    _el(response, "OrganId", status.document_organ_id)
    _el(response, "Code", status.code)
    _el(response, "PromulgationDate", status.promulgation_date.strftime(DATE_FORMAT))
    _el(response, "DocumentId", status.document_id)
    staff = _el(message, "StaffInfo")
    _el(staff, "Department", status.staff_department)
    _el(staff, "Staff", status.staff_name)
    _el(staff, "Mobile", "")
    _el(staff, "Email", "")
    _el(message, "StatusCode", status.status_code)
    _el(message, "Description", status.description)
    _el(message, "Timestamp", _stamp(status.timestamp))
    _el(envelope, "edXMLBody")
    return root


class _HolderKey:
    """signxml calls `key.sign(data, padding=..., algorithm=...)` (RSA) or `key.sign(data, signature_algorithm=...)`
    (ECDSA) on a cryptography private key; a `KeyHolder` (stored key, PKCS#11 token, remote signer) answers the
    same way, so the private key never has to be handed over in clear."""

    def __init__(self, holder: KeyHolder) -> None:
        self._holder = holder
        self.key_size = holder.certificate.public_key().key_size

    def public_key(self):
        return self._holder.certificate.public_key()

    def sign(self, data: bytes, padding=None, algorithm=None, signature_algorithm=None) -> bytes:
        hash_algorithm = algorithm if algorithm is not None else signature_algorithm.algorithm
        return self._holder.sign(data, hash_algorithm.name)


class _Signer(XMLSigner):
    """signxml re-parses the document with its own parser, whose default limits refuse an attachment of more than
    ~7 MB (one base64 text node over 10 MB); ours lifts them (see `_parser`)."""

    @property
    def parser(self) -> etree.XMLParser:
        return _parser()


def sign(root: etree._Element, holder: KeyHolder) -> bytes:
    """The signed package: an enveloped signature in edXMLHeader over the whole document (URI="")."""
    header = root.find(f"{{{NS}}}edXMLEnvelope/{{{NS}}}edXMLHeader")
    etree.SubElement(header, f"{{{DS}}}Signature", Id="placeholder")
    public_key = holder.certificate.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        method = SignatureMethod.RSA_SHA256
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        method = SignatureMethod.ECDSA_SHA256
    else:  # pragma: no cover - KeyHolder allows only these two
        raise ValueError("unsupported seal key")
    signer = _Signer(method=SignatureConstructionMethod.enveloped, signature_algorithm=method,
                     digest_algorithm=DigestAlgorithm.SHA256, c14n_algorithm=C14N)
    signed = signer.sign(root, key=_HolderKey(holder), cert=[holder.certificate, *holder.chain])
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


# --- parsing and verifying --------------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    # No entities, no DTD, no network. huge_tree: a base64 attachment of more than ~7 MB is one text node beyond
    # libxml2's default 10 MB limit; the whole package is bounded by `max_bytes` before parsing and DTDs are
    # refused unparsed, so the limits it lifts guard nothing here.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=True, remove_blank_text=False)


def parse(data: bytes, *, max_bytes: int) -> etree._Element:
    """The package's root, or PackageRefused (too large, a DTD, not well-formed, not edXML)."""
    if len(data) > max_bytes:
        raise PackageRefused("too_large", _("The package is larger than the limit of %(limit)d bytes.")
                             % {"limit": max_bytes}, http_status=413)
    try:
        data.decode("utf-8")  # also makes the byte scan below exact: no UTF-16 or EBCDIC hiding a DTD
    except UnicodeDecodeError:
        raise PackageRefused("malformed", _("The package must be encoded in UTF-8.")) from None
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise PackageRefused("doctype", _("The package contains a document type declaration; it is refused."))
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise PackageRefused("malformed", _("The package is not well-formed XML: %(error)s")
                             % {"error": str(error)[:200]}) from None
    if root.getroottree().docinfo.internalDTD is not None:  # defence in depth: the scan above should catch it
        raise PackageRefused("doctype", _("The package contains a document type declaration; it is refused."))
    if root.tag != f"{{{NS}}}edXML":
        raise PackageRefused("malformed", _("The package is not an edXML document (root element %(tag)s).")
                             % {"tag": str(root.tag)[:100]})
    return root


def signing_certificate(root: etree._Element) -> x509.Certificate:
    """The first certificate of the signature's KeyInfo: who claims to have signed (checked by `verify`)."""
    signatures = root.findall(f".//{{{DS}}}Signature")
    if not signatures:
        raise PackageRefused("unsigned", _("The package is not signed."), http_status=403)
    if len(signatures) > 1:
        raise PackageRefused("bad_signature", _("The package carries more than one signature."), http_status=403)
    node = signatures[0].find(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    if node is None or not (node.text or "").strip():
        raise PackageRefused("unsigned", _("The signature does not carry the signing certificate."), http_status=403)
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(node.text.split()), validate=True))
    except (ValueError, binascii.Error):
        raise PackageRefused("bad_signature", _("The signing certificate cannot be read."), http_status=403) from None


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def verify(root: etree._Element, certificate: x509.Certificate) -> etree._Element:
    """Check the signature against the peer's configured certificate; return the signed content (read the
    fields from it, never from the posted tree: what was not signed is not there)."""
    claimed = signing_certificate(root)
    if fingerprint(claimed) != fingerprint(certificate):
        raise PackageRefused("wrong_certificate", _("The package is signed with a certificate (%(subject)s) that "
                                                    "is not the one configured for this sender.")
                             % {"subject": claimed.subject.rfc4514_string()[:200]}, http_status=403)
    config = SignatureConfiguration(require_x509=True, expect_references=1, signature_methods=SIGNATURE_METHODS,
                                    digest_algorithms=DIGESTS, location=".//")
    try:
        result = XMLVerifier().verify(root, x509_cert=certificate, expect_config=config, parser=_parser())
    except (InvalidSignature, InvalidDigest, InvalidInput, InvalidCertificate) as error:
        raise PackageRefused("bad_signature", _("The signature does not verify: %(error)s")
                             % {"error": str(error)[:200]}, http_status=403) from None
    if result.signed_xml is None or result.signed_xml.tag != f"{{{NS}}}edXML":
        raise PackageRefused("bad_signature", _("The signature does not cover the whole package."), http_status=403)
    return result.signed_xml


# --- reading and validating -------------------------------------------------------------------------------


class _Reader:
    """Reads fields of a verified package, collecting every error so the reason names them all."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def node(self, parent: etree._Element, path: str) -> etree._Element | None:
        if path == ".":
            return parent
        return parent.find("/".join(f"edXML:{part}" for part in path.split("/")), NSMAP)

    def text(self, parent: etree._Element | None, path: str, *, required: bool = False, limit: str = "",
             label: str = "") -> str:
        node = self.node(parent, path) if parent is not None else None
        value = (node.text or "").strip() if node is not None else ""
        label = label or path
        if required and not value:
            self.errors.append(_("%(field)s is missing.") % {"field": label})
        maximum = MAX.get(limit or path.rsplit("/", 1)[-1])
        if maximum is not None and len(value) > maximum:
            self.errors.append(_("%(field)s is longer than %(max)d characters.") % {"field": label, "max": maximum})
        return value

    def organ_id(self, parent: etree._Element | None, path: str, *, label: str = "") -> str:
        label = label or path
        value = self.text(parent, path, required=True, label=label)
        if value and not ORGAN_ID.match(value):
            self.errors.append(_("%(field)s must be up to 35 characters of dots, digits and capital letters.")
                               % {"field": label})
        return value

    def code(self, parent: etree._Element | None, path: str, allowed: tuple[int, ...], *, default: int | None = None
             ) -> int:
        value = self.text(parent, path, required=default is None)
        if not value and default is not None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = None
        if number not in allowed:
            self.errors.append(_("%(field)s must be one of %(codes)s.")
                               % {"field": path, "codes": ", ".join(str(c) for c in allowed)})
            return allowed[0]
        return number

    def number(self, parent: etree._Element | None, path: str) -> int | None:
        value = self.text(parent, path)
        if not value:
            return None
        if not value.isdigit() or int(value) > 32767:
            self.errors.append(_("%(field)s must be a number.") % {"field": path})
            return None
        return int(value)

    def date(self, parent: etree._Element | None, path: str, *, required: bool = False) -> dt.date | None:
        value = self.text(parent, path, required=required)
        if not value:
            return None
        try:
            return dt.datetime.strptime(value, DATE_FORMAT).date()
        except ValueError:
            self.errors.append(_("%(field)s must be a date written yyyy/MM/dd.") % {"field": path})
            return None

    def timestamp(self, parent: etree._Element | None, path: str) -> dt.datetime:
        value = self.text(parent, path, required=True)
        try:
            return dt.datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=VIETNAM)
        except ValueError:
            if value:
                self.errors.append(_("%(field)s must be written yyyy/MM/dd HH:mm:ss.") % {"field": path})
            return dt.datetime(1970, 1, 1, tzinfo=VIETNAM)

    def organ(self, node: etree._Element | None, path: str) -> Organ:
        return Organ(
            organ_id=self.organ_id(node, "OrganId", label=f"{path}/OrganId"),
            name=self.text(node, "OrganName", label=f"{path}/OrganName"),
            organization_in_charge=self.text(node, "OrganizationInCharge", limit="OrganName"),
            address=self.text(node, "OrganAdd"), email=self.text(node, "Email"),
            telephone=self.text(node, "Telephone"), fax=self.text(node, "Fax", limit="Telephone"),
            website=self.text(node, "Website", limit="OrganAdd"),
        )

    def raise_errors(self) -> None:
        if self.errors:
            raise PackageRefused("invalid", " ".join(self.errors[:20]))


def message_type(root: etree._Element) -> str:
    """"status" when the MessageHeader carries a StatusCode, else "edoc"."""
    status = root.find("edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:StatusCode", NSMAP)
    return "status" if status is not None else "edoc"


def sender_organ_id(root: etree._Element) -> str:
    """From/OrganId, read before verification only to find whose certificate must have signed."""
    node = root.find("edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader/edXML:From/edXML:OrganId", NSMAP)
    return (node.text or "").strip() if node is not None else ""


def _header(root: etree._Element, reader: _Reader) -> etree._Element:
    message = root.find("edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:MessageHeader", NSMAP)
    if message is None:
        raise PackageRefused("invalid", _("The package has no MessageHeader."))
    return message


def read_edoc(root: etree._Element, *, today: dt.date, max_attachment_bytes: int) -> Edoc:
    """The document package's fields, validated (lengths, codes, dates, attachments)."""
    reader = _Reader()
    message = _header(root, reader)
    sender = reader.organ(message.find("edXML:From", NSMAP), "From")
    recipients = [reader.organ(node, "To") for node in message.findall("edXML:To", NSMAP)]
    if not recipients:
        reader.errors.append(_("To is missing."))
    traces = root.find("edXML:edXMLEnvelope/edXML:edXMLHeader/edXML:TraceHeaderList", NSMAP)
    if traces is None:
        raise PackageRefused("invalid", _("The package has no TraceHeaderList."))
    trace_nodes = traces.findall("edXML:TraceHeader", NSMAP)
    if not trace_nodes:
        reader.errors.append(_("TraceHeader is missing."))
    timestamp = reader.timestamp(trace_nodes[-1] if trace_nodes else None, "Timestamp")
    business = traces.find("edXML:Bussiness", NSMAP)
    if business is None:
        business = traces.find("edXML:Business", NSMAP)  # Bkav's parser accepts the corrected spelling too
    promulgation_date = reader.date(message, "PromulgationInfo/PromulgationDate", required=True)
    if promulgation_date and promulgation_date > today:
        reader.errors.append(_("PromulgationDate is in the future."))
    places = [reader.text(node, ".", limit="ToPlace") for node in message.findall("edXML:ToPlaces/edXML:Place", NSMAP)]
    edoc = Edoc(
        sender=sender, recipients=recipients,
        document_id=reader.text(message, "DocumentId", required=True),
        code_number=reader.text(message, "Code/CodeNumber", required=True),
        code_notation=reader.text(message, "Code/CodeNotation"),
        place=reader.text(message, "PromulgationInfo/Place"),
        promulgation_date=promulgation_date or today,
        type_code=reader.code(message, "DocumentType/Type", DOCUMENT_TYPES),
        type_detail=reader.text(message, "DocumentType/TypeDetail", limit="TyperNotation"),
        type_name=reader.text(message, "DocumentType/TypeName", required=True),
        subject=reader.text(message, "Subject", required=True),
        content=reader.text(message, "Content"),
        signer_competence=reader.text(message, "SignerInfo/Competence"),
        signer_position=reader.text(message, "SignerInfo/Position"),
        signer_name=reader.text(message, "SignerInfo/FullName"),
        due_date=reader.date(message, "DueDate"),
        to_places=places,
        priority=reader.code(message, "OtherInfo/Priority", PRIORITIES, default=0),
        sphere=reader.text(message, "OtherInfo/SphereOfPromulgation"),
        typer_notation=reader.text(message, "OtherInfo/TyperNotation"),
        promulgation_amount=reader.number(message, "OtherInfo/PromulgationAmount"),
        page_amount=reader.number(message, "OtherInfo/PageAmount"),
        steering_type=reader.code(message, "SteeringType", STEERING_TYPES, default=0),
        timestamp=timestamp,
        business_type=reader.code(business, "BussinessDocType", BUSINESS_TYPES, default=0),
        business_reason=reader.text(business, "BussinessDocReason"),
        business_document_id=reader.text(business, "DocumentId", limit="DocumentId"),
        paper=reader.code(business, "Paper", (0, 1), default=0),
    )
    if edoc.document_id and not edoc.document_id.startswith(f"{sender.organ_id},"):
        reader.errors.append(_("DocumentId must start with the sender's OrganId."))
    edoc.attachments = _attachments(root, reader, max_attachment_bytes)
    if edoc.business_type == 0 and not edoc.attachments:
        reader.errors.append(_("A new document must carry at least one attachment."))
    reader.raise_errors()
    return edoc


def _attachments(root: etree._Element, reader: _Reader, max_bytes: int) -> list[Attachment]:
    attachments = []
    for node in root.findall("edXML:AttachmentEncoded/edXML:Attachment", NSMAP):
        name = reader.text(node, "AttachmentName", required=True)
        encoded = reader.text(node, "ContentTransferEncoded", required=True)
        try:
            content = base64.b64decode("".join(encoded.split()), validate=True)
        except (ValueError, binascii.Error):
            reader.errors.append(_("Attachment %(name)s is not valid base64.") % {"name": name[:100]})
            continue
        if len(content) > max_bytes:
            reader.errors.append(_("Attachment %(name)s is larger than the limit.") % {"name": name[:100]})
            continue
        attachments.append(Attachment(name=name, content_type=reader.text(node, "ContentType"), content=content,
                                      description=reader.text(node, "Description", limit="Subject")))
    return attachments


def read_status(root: etree._Element) -> Status:
    """The status package's fields, validated."""
    reader = _Reader()
    message = _header(root, reader)
    sender = reader.organ(message.find("edXML:From", NSMAP), "From")
    response = reader.node(message, "ResponseFor")
    if response is None:
        raise PackageRefused("invalid", _("The status package has no ResponseFor."))
    status_code = reader.text(message, "StatusCode", required=True)
    if status_code and status_code not in STATUS_CODES:
        reader.errors.append(_("StatusCode must be one of %(codes)s.") % {"codes": ", ".join(STATUS_CODES)})
    status = Status(
        sender=sender,
        recipient_organ_id=reader.organ_id(message, "To/OrganId"),
        document_organ_id=reader.organ_id(response, "OrganId"),
        document_id=reader.text(response, "DocumentId", required=True),
        code=reader.text(response, "Code", limit="DocumentId"),
        promulgation_date=reader.date(response, "PromulgationDate") or dt.date(1970, 1, 1),
        status_code=status_code,
        description=reader.text(message, "Description"),
        timestamp=reader.timestamp(message, "Timestamp"),
        staff_name=reader.text(message, "StaffInfo/Staff", limit="OrganName"),
        staff_department=reader.text(message, "StaffInfo/Department", limit="OrganName"),
    )
    reader.raise_errors()
    return status


def replay_key(kind: str, sender: str, recipient: str, document_id: str, timestamp: dt.datetime, code: str) -> str:
    """What makes a package unique, all of it under the signature: posted twice, it is a replay."""
    raw = "|".join([kind, sender, recipient, document_id, _stamp(timestamp), code])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
