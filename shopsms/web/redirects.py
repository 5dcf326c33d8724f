"""Where a person may be sent after logging in: a path of this site, nothing else."""

import re
import unicodedata
from urllib.parse import unquote, urlsplit

# Control characters (tabs and line breaks included) and backslashes: browsers drop the
# first and read the second as a slash, so "/\tevil" and "/\\evil" both lead elsewhere.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def _looks_local(text):
    if not text.startswith("/") or text.startswith("//") or _UNSAFE.search(text):
        return False
    # Other spaces, separators and invisible characters have no place in a link we made.
    if any(unicodedata.category(char)[0] in "CZ" for char in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def safe_next(target):
    """`target` when it is a path of this site under every reading a browser may make of
    it (percent-decoded, Unicode-folded: "／" is a slash to some), else None."""
    if not target or len(target) > 2000:
        return None
    seen = target
    for _ in range(4):  # "%252F" decodes twice; more layers than that are not a link
        if not _looks_local(seen) or not _looks_local(unicodedata.normalize("NFKC", seen)):
            return None
        decoded = unquote(seen)
        if decoded == seen:
            return target
        seen = decoded
    return None


def back_to_referrer(request, default):
    """The page the person came from when it is a page of this site, else `default`:
    a link from another site must not bounce its visitor back there through us."""
    referrer = request.referrer
    if referrer:
        parts = urlsplit(referrer)
        if parts.netloc == request.host and parts.scheme in ("http", "https"):
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            return safe_next(path) or default
    return default
