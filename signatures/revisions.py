"""What each incremental revision of a signed PDF did, compared with the revision before it.

pyHanko's difference analysis gives one level per signature (none, form filling, annotations, other); a
reader needs to know *what* happened: page content replaced or drawn over, an annotation added, which form
field was filled, pages added or removed, a signature added. This module compares the object graph of
revision n with that of revision n-1 (pages, their content and annotations, the form fields) and lists the
changes. It also catches what pyHanko's form-filling rule lets through: a field whose visible appearance
is replaced while its value stays the same (the "replace" shadow attack).

Only objects that a revision overwrote or that the pages and fields reach are looked at, so the cost is
small next to the signature validation itself. Hostile files may make any step fail: callers catch that and
go on without the description.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader


class ChangeKind(enum.StrEnum):
    CONTENT_REPLACED = "content_replaced"
    CONTENT_DRAWN_OVER = "content_drawn_over"
    PAGES_ADDED = "pages_added"
    PAGES_REMOVED = "pages_removed"
    ANNOTATION_ADDED = "annotation_added"
    ANNOTATION_CHANGED = "annotation_changed"
    ANNOTATION_REMOVED = "annotation_removed"
    FIELD_FILLED = "field_filled"
    """A form field that was empty got a value."""
    FIELD_VALUE_CHANGED = "field_value_changed"
    """A form field that had a value got another one."""
    FIELD_APPEARANCE_REPLACED = "field_appearance_replaced"
    """The visible appearance of a field changed while its value did not (shadow attack)."""
    FIELD_ADDED = "field_added"
    FIELD_CHANGED = "field_changed"
    """A field's other properties (position, flags, type) changed."""
    SIGNATURE_ADDED = "signature_added"
    SIGNATURE_CHANGED = "signature_changed"
    """An existing signature's dictionary was rewritten (e.g. its /Reason replaced: a spoofing attempt)."""
    TIMESTAMP_ADDED = "timestamp_added"
    VALIDATION_DATA_ADDED = "validation_data_added"
    OTHER_OBJECTS_CHANGED = "other_objects_changed"


VISIBLE_CONTENT_CHANGES = frozenset({
    ChangeKind.CONTENT_REPLACED,
    ChangeKind.CONTENT_DRAWN_OVER,
    ChangeKind.PAGES_ADDED,
    ChangeKind.PAGES_REMOVED,
    ChangeKind.FIELD_APPEARANCE_REPLACED,
})
"""Changes that alter what a signed page shows and that no signature's form-filling permission covers."""


@dataclass
class Change:
    kind: str
    name: str = ""
    """Field name, annotation subtype or signature field name."""
    page: int | None = None
    """1-based page number, when the change belongs to a page."""
    count: int = 0
    """Pages added or removed."""
    signer: str = ""
    """For an added signature: who signed it (filled in from the signature reports)."""

    def __post_init__(self) -> None:
        self.kind = str(self.kind)  # plain text in reports and JSON, comparable with ChangeKind members

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RevisionChanges:
    revision: int
    """0-based, as pyHanko counts: revision 0 is the original file."""
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "changes": [change.to_dict() for change in self.changes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RevisionChanges:
        known = {"kind", "name", "page", "count", "signer"}
        return cls(
            revision=int(data["revision"]),
            changes=[Change(**{k: v for k, v in item.items() if k in known}) for item in data.get("changes", [])],
        )


_MAX_PAGES = 5000
_MAX_FIELDS = 2000


def _deref(value: Any) -> Any:
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def _ref(value: Any) -> generic.Reference | None:
    return value.reference if isinstance(value, generic.IndirectObject) else None


def _pages(root: generic.DictionaryObject) -> list[tuple[generic.Reference | None, generic.DictionaryObject]]:
    pages: list[tuple[generic.Reference | None, generic.DictionaryObject]] = []
    seen: set[generic.Reference] = set()
    stack = [root.raw_get("/Pages")]
    while stack and len(pages) < _MAX_PAGES:
        node_value = stack.pop()
        ref = _ref(node_value)
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        node = _deref(node_value)
        if not isinstance(node, generic.DictionaryObject):
            continue
        kids = node.get("/Kids") if "/Kids" in node else None
        if node.get("/Type") == "/Pages" or kids is not None:
            kid_values = node.raw_get("/Kids") if kids is not None else []
            kid_values = _deref(kid_values)
            if isinstance(kid_values, generic.ArrayObject):
                stack.extend(reversed(list(kid_values.raw_get(i) for i in range(len(kid_values)))))
        else:
            pages.append((ref, node))
    return pages


def _raw_list(value: Any) -> list[Any]:
    """The items of an array (direct or indirect) without resolving them; a single object as a list of one."""
    resolved = _deref(value)
    if isinstance(resolved, generic.ArrayObject):
        return [resolved.raw_get(i) for i in range(len(resolved))]
    return [] if resolved is None else [value]


def _identity(value: Any) -> Any:
    ref = _ref(value)
    return ("ref", ref.idnum, ref.generation) if ref is not None else ("direct", repr(value))


@dataclass
class _FieldState:
    ref: generic.Reference | None
    field_type: str
    value: Any
    appearance: Any
    rect: Any
    flags: Any
    is_signature: bool
    is_timestamp: bool
    signature_ref: Any
    appearance_refs: set[generic.Reference] = field(default_factory=set)


def _fields(root: generic.DictionaryObject) -> dict[str, _FieldState]:
    result: dict[str, _FieldState] = {}
    form = _deref(root.raw_get("/AcroForm")) if "/AcroForm" in root else None
    if not isinstance(form, generic.DictionaryObject) or "/Fields" not in form:
        return result
    seen: set[generic.Reference] = set()
    stack: list[tuple[Any, str, str]] = [(item, "", "") for item in reversed(_raw_list(form.raw_get("/Fields")))]
    while stack and len(result) < _MAX_FIELDS:
        value, parent_name, parent_type = stack.pop()
        ref = _ref(value)
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        node = _deref(value)
        if not isinstance(node, generic.DictionaryObject):
            continue
        partial = str(node["/T"]) if "/T" in node else ""
        name = f"{parent_name}.{partial}" if parent_name and partial else (partial or parent_name)
        field_type = str(node["/FT"]) if "/FT" in node else parent_type
        kids = _raw_list(node.raw_get("/Kids")) if "/Kids" in node else []
        named_kids = [kid for kid in kids if isinstance(_deref(kid), generic.DictionaryObject) and "/T" in _deref(kid)]
        if named_kids:
            stack.extend((kid, name, field_type) for kid in reversed(named_kids))
            continue
        widgets = [_deref(kid) for kid in kids] or [node]
        signature_value = node.raw_get("/V") if "/V" in node else None
        signature = _deref(signature_value) if field_type == "/Sig" else None
        result[name] = _FieldState(
            ref=ref,
            field_type=field_type,
            value=None if field_type == "/Sig" else (node.get("/V") if "/V" in node else None),
            appearance=[(_identity(w.raw_get("/AP")) if "/AP" in w else None) for w in widgets],
            rect=[repr(w.get("/Rect")) for w in widgets],
            flags=(node.get("/Ff"), [w.get("/F") for w in widgets]),
            is_signature=field_type == "/Sig" and isinstance(signature, generic.DictionaryObject),
            is_timestamp=isinstance(signature, generic.DictionaryObject)
            and signature.get("/Type") == "/DocTimeStamp",
            signature_ref=_identity(signature_value) if signature_value is not None else None,
            appearance_refs={ref for w in widgets if "/AP" in w for ref in _appearance_refs(w.raw_get("/AP"))},
        )
    return result


def _appearance_refs(widget_ap: Any) -> set[generic.Reference]:
    """The appearance streams of a widget (normal, down, rollover; each appearance state)."""
    refs: set[generic.Reference] = set()
    ap = _deref(widget_ap)
    if not isinstance(ap, generic.DictionaryObject):
        return refs
    for key in ("/N", "/D", "/R"):
        if key not in ap:
            continue
        entry = ap.raw_get(key)
        state = _deref(entry)
        if isinstance(state, generic.DictionaryObject) and not isinstance(state, generic.StreamObject):
            refs.update(r for r in (_ref(state.raw_get(k)) for k in state) if r is not None)
        elif _ref(entry) is not None:
            refs.add(_ref(entry))
    return refs


def _empty(value: Any) -> bool:
    if value is None or isinstance(value, generic.NullObject):
        return True
    return isinstance(value, str | bytes) and not str(value).strip()


def _compare(reader: PdfFileReader, revision: int) -> list[Change]:
    old = reader.get_historical_resolver(revision - 1)
    new = reader.get_historical_resolver(revision)
    xrefs = reader.xrefs
    written = xrefs.explicit_refs_in_revision(revision)
    overwritten = set()
    for ref in written:
        try:
            if xrefs.get_introducing_revision(ref) < revision:
                overwritten.add(ref)
        except Exception:
            overwritten.add(ref)
    explained: set[generic.Reference] = set()
    changes: list[Change] = []

    old_root, new_root = (
        resolver.get_object(resolver.trailer_view.raw_get("/Root").reference) for resolver in (old, new)
    )
    if not isinstance(old_root, generic.DictionaryObject) or not isinstance(new_root, generic.DictionaryObject):
        return [Change(ChangeKind.OTHER_OBJECTS_CHANGED)]
    explained.update(r for r in (_ref(old.trailer_view.raw_get("/Root")), _ref(new.trailer_view.raw_get("/Root"))) if r)
    for key in ("/Info",):
        if key in new.trailer_view:
            explained.add(_ref(new.trailer_view.raw_get(key)))
    if "/Metadata" in new_root:
        explained.add(_ref(new_root.raw_get("/Metadata")))
    if "/DSS" in new_root and ("/DSS" not in old_root or overwritten):
        new_dss = _identity(new_root.raw_get("/DSS"))
        old_dss = _identity(old_root.raw_get("/DSS")) if "/DSS" in old_root else None
        dss_ref = _ref(new_root.raw_get("/DSS"))
        if new_dss != old_dss or (dss_ref is not None and dss_ref in overwritten):
            changes.append(Change(ChangeKind.VALIDATION_DATA_ADDED))
        dss = _deref(new_root.raw_get("/DSS"))
        if dss_ref is not None:
            explained.add(dss_ref)
        if isinstance(dss, generic.DictionaryObject):
            for key in ("/Certs", "/CRLs", "/OCSPs", "/VRI"):
                if key in dss:
                    explained.add(_ref(dss.raw_get(key)))

    # pages
    old_pages, new_pages = _pages(old_root), _pages(new_root)
    old_page_refs = {ref: index for index, (ref, _page) in enumerate(old_pages) if ref is not None}
    if len(new_pages) > len(old_pages):
        changes.append(Change(ChangeKind.PAGES_ADDED, count=len(new_pages) - len(old_pages)))
    elif len(new_pages) < len(old_pages):
        changes.append(Change(ChangeKind.PAGES_REMOVED, count=len(old_pages) - len(new_pages)))
    pages_node = _ref(new_root.raw_get("/Pages"))
    if pages_node is not None and len(new_pages) == len(old_pages):
        explained.add(pages_node)

    new_fields, old_fields = _fields(new_root), _fields(old_root)
    field_widgets: set[generic.Reference] = set()
    for state in new_fields.values():
        if state.ref is not None:
            field_widgets.add(state.ref)
    form_ref = _ref(new_root.raw_get("/AcroForm")) if "/AcroForm" in new_root else None
    if form_ref is not None:
        explained.add(form_ref)

    for number, (ref, page) in enumerate(new_pages, start=1):
        if ref is None or ref not in old_page_refs:
            if len(new_pages) == len(old_pages):  # a page object swapped for another one
                changes.append(Change(ChangeKind.CONTENT_REPLACED, page=number))
            continue
        if len(new_pages) == len(old_pages) and old_page_refs[ref] != number - 1:  # pages reordered
            changes.append(Change(ChangeKind.CONTENT_REPLACED, page=number))
        old_page = old_pages[old_page_refs[ref]][1]
        if ref in overwritten:
            explained.add(ref)
        old_contents = [_identity(item) for item in _raw_list(old_page.raw_get("/Contents"))] \
            if "/Contents" in old_page else []
        new_contents_raw = _raw_list(page.raw_get("/Contents")) if "/Contents" in page else []
        new_contents = [_identity(item) for item in new_contents_raw]
        content_overwritten = any(_ref(item) in overwritten for item in new_contents_raw if _ref(item) is not None)
        if new_contents != old_contents or content_overwritten:
            grown = not content_overwritten and len(new_contents) > len(old_contents)
            kept = new_contents[: len(old_contents)] == old_contents or new_contents[-len(old_contents):] == old_contents
            if grown and (not old_contents or kept):
                changes.append(Change(ChangeKind.CONTENT_DRAWN_OVER, page=number))
            else:
                changes.append(Change(ChangeKind.CONTENT_REPLACED, page=number))
        explained.update(_ref(item) for item in new_contents_raw if _ref(item) is not None)
        other_keys = (set(page) | set(old_page)) - {"/Annots", "/Contents", "/Parent"}
        if any(_identity(page.raw_get(k)) != _identity(old_page.raw_get(k)) if k in page and k in old_page
               else True for k in other_keys):
            # new content brings its own resources: one change for the page
            if not any(c.page == number and c.kind in (ChangeKind.CONTENT_REPLACED, ChangeKind.CONTENT_DRAWN_OVER)
                       for c in changes):
                changes.append(Change(ChangeKind.CONTENT_REPLACED, page=number))
        # annotations
        old_annots = {_identity(a): a for a in _raw_list(old_page.raw_get("/Annots"))} if "/Annots" in old_page else {}
        new_annots = {_identity(a): a for a in _raw_list(page.raw_get("/Annots"))} if "/Annots" in page else {}
        if "/Annots" in page and _ref(page.raw_get("/Annots")) is not None:
            explained.add(_ref(page.raw_get("/Annots")))
        for key, annot in new_annots.items():
            annot_ref = _ref(annot)
            annot_dict = _deref(annot)
            subtype = str(annot_dict.get("/Subtype", "")) if isinstance(annot_dict, generic.DictionaryObject) else ""
            is_widget = subtype == "/Widget"
            if key not in old_annots:
                if not is_widget:
                    changes.append(Change(ChangeKind.ANNOTATION_ADDED, name=subtype.lstrip("/"), page=number))
            elif annot_ref is not None and annot_ref in overwritten and not is_widget:
                changes.append(Change(ChangeKind.ANNOTATION_CHANGED, name=subtype.lstrip("/"), page=number))
            if annot_ref is not None and (not is_widget or annot_ref not in overwritten):
                explained.add(annot_ref)
            if is_widget and annot_ref is not None:
                field_widgets.add(annot_ref)
        for key, annot in old_annots.items():
            if key not in new_annots:
                annot_dict = _deref(annot)
                subtype = str(annot_dict.get("/Subtype", "")) if isinstance(annot_dict, generic.DictionaryObject) else ""
                if subtype == "/Widget":
                    changes.append(Change(ChangeKind.FIELD_CHANGED, name=str(annot_dict.get("/T", "")), page=number))
                else:
                    changes.append(Change(ChangeKind.ANNOTATION_REMOVED, name=subtype.lstrip("/"), page=number))

    # form fields
    for name, state in new_fields.items():
        before = old_fields.get(name)
        if state.ref is not None:
            explained.add(state.ref)
        if before is None or state.field_type == "/Sig" and state.signature_ref != before.signature_ref:
            explained.update(state.appearance_refs)  # a new or newly signed field draws its own appearance
        elif repr(state.value) != repr(before.value):
            explained.update(state.appearance_refs)
        if before is None:
            if state.is_signature:
                kind = ChangeKind.TIMESTAMP_ADDED if state.is_timestamp else ChangeKind.SIGNATURE_ADDED
                changes.append(Change(kind, name=name))
            else:
                changes.append(Change(ChangeKind.FIELD_ADDED, name=name))
            continue
        if state.field_type != before.field_type or state.rect != before.rect or state.flags[1] != before.flags[1]:
            changes.append(Change(ChangeKind.FIELD_CHANGED, name=name))
            continue
        if state.field_type == "/Sig":
            if state.signature_ref != before.signature_ref and state.is_signature:
                kind = ChangeKind.TIMESTAMP_ADDED if state.is_timestamp else ChangeKind.SIGNATURE_ADDED
                changes.append(Change(kind, name=name))
            continue
        value_changed = repr(state.value) != repr(before.value)
        appearance_rewritten = state.appearance != before.appearance or bool(state.appearance_refs & overwritten)
        if value_changed:
            kind = ChangeKind.FIELD_FILLED if _empty(before.value) else ChangeKind.FIELD_VALUE_CHANGED
            changes.append(Change(kind, name=name))
        elif appearance_rewritten:
            changes.append(Change(ChangeKind.FIELD_APPEARANCE_REPLACED, name=name))
    # a filled field's new appearance streams and fonts are new objects; what else was overwritten?
    for ref in overwritten - explained:
        if ref in field_widgets:
            continue
        try:
            obj = new.get_object(ref)
        except Exception:
            changes.append(Change(ChangeKind.OTHER_OBJECTS_CHANGED))
            break
        if isinstance(obj, generic.StreamObject) and obj.get("/Type") in ("/XRef", "/ObjStm"):
            continue
        if isinstance(obj, generic.DictionaryObject) and obj.get("/Type") in ("/Sig", "/DocTimeStamp"):
            names = [name for name, state in new_fields.items() if state.signature_ref == ("ref", ref.idnum,
                                                                                         ref.generation)]
            changes.append(Change(ChangeKind.SIGNATURE_CHANGED, name=", ".join(names)))
            continue
        if isinstance(obj, generic.StreamObject) and obj.get("/Subtype") in ("/Form", "/Image"):
            # an XObject overwritten in place changes whatever page or appearance draws it
            changes.append(Change(ChangeKind.CONTENT_REPLACED))
            break
        changes.append(Change(ChangeKind.OTHER_OBJECTS_CHANGED))
        break
    return changes


def describe_revisions(reader: PdfFileReader, since: int = 1) -> list[RevisionChanges]:
    """The changes of every revision from `since` on (revision 0 is the original file)."""
    return [
        RevisionChanges(revision=revision, changes=_compare(reader, revision))
        for revision in range(max(since, 1), reader.xrefs.total_revisions)
    ]
