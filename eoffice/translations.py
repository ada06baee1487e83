"""Compiled translation catalogues (.mo) that match their sources (.po).

The .mo files are not in git: `make` compiles them (`manage.py compile_translations`). Started any other way
(`manage.py runserver`, gunicorn from a fresh checkout, a container built without the step), Django silently falls
back to the msgids and the interface comes up half English. So: at start-up (eoffice.apps) a missing or stale
catalogue is compiled when its folder is writable, and the system check eoffice.E005 (eoffice.checks) stops
`runserver`, `migrate` and `check --deploy` with the command to run when it could not be.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

FIX_COMMAND = "python manage.py compile_translations"


@dataclass(frozen=True)
class Catalogue:
    po: Path
    mo: Path

    @property
    def missing(self) -> bool:
        return not self.mo.exists()

    @property
    def stale(self) -> bool:
        """Missing, or older than its source (a .po edited or pulled after the last compilation)."""
        try:
            return self.mo.stat().st_mtime < self.po.stat().st_mtime
        except FileNotFoundError:
            return True


def catalogues() -> list[Catalogue]:
    """Every .po under LOCALE_PATHS with the .mo beside it."""
    found = []
    for locale_dir in settings.LOCALE_PATHS:
        for po in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
            found.append(Catalogue(po=po, mo=po.with_suffix(".mo")))
    return found


def stale_catalogues() -> list[Catalogue]:
    """Catalogues whose .mo is missing or older than the .po (a few stat calls: cheap at every start)."""
    return [catalogue for catalogue in catalogues() if catalogue.stale]


def compile_catalogue(catalogue: Catalogue) -> None:
    """Compile one .po with polib, written beside it under a temporary name and renamed: several processes
    starting at once (gunicorn workers, test workers) never read a half-written file."""
    import polib

    handle, temporary = tempfile.mkstemp(dir=catalogue.mo.parent, prefix=".django-", suffix=".mo.tmp")
    os.close(handle)
    try:
        polib.pofile(str(catalogue.po)).save_as_mofile(temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, catalogue.mo)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def compile_stale_catalogues() -> tuple[list[Catalogue], list[tuple[Catalogue, str]]]:
    """Compile what is missing or stale where the folder is writable; returns (compiled, failed with reason)."""
    compiled, failed = [], []
    for catalogue in stale_catalogues():
        if not os.access(catalogue.mo.parent, os.W_OK):
            failed.append((catalogue, "the folder is not writable"))
            continue
        try:
            compile_catalogue(catalogue)
        except Exception as error:  # a broken .po must not stop the start: the system check reports it
            failed.append((catalogue, str(error)))
        else:
            compiled.append(catalogue)
    if compiled:
        _forget_loaded_catalogues()
        logger.warning("Compiled translation catalogue(s) at start-up: %s",
                       ", ".join(str(catalogue.mo) for catalogue in compiled))
    for catalogue, reason in failed:
        logger.error("Translation catalogue %s is %s and could not be compiled (%s): the interface will show "
                     "English text. Run `%s`.", catalogue.mo, "missing" if catalogue.missing else "out of date",
                     reason, FIX_COMMAND)
    return compiled, failed


def _forget_loaded_catalogues() -> None:
    """Drop catalogues a process may already have loaded (as Django's autoreloader does on a .mo change)."""
    import gettext

    from asgiref.local import Local
    from django.utils.translation import trans_real

    gettext._translations = {}
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = Local()
