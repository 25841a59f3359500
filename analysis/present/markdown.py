"""Text from data made safe for MyST markdown: escaped prose, inline code spans. Shared by the
generated sentences (``prose``) and the shown tables (``tables``)."""

from __future__ import annotations

import re
import string

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")


def escape(value) -> str:
    """Text from data, made literal for MyST markdown: every ASCII punctuation character gets a
    backslash (CommonMark shows an escaped punctuation character as itself), and line breaks
    become spaces. The HTML renderer then escapes ``<``, ``&`` and quotes itself.

    Parameters
    ----------
    value : object
        The text, or any value (taken as ``str(value)``).

    Returns
    -------
    str
        The escaped text, on one line.
    """
    text = re.sub(r"[\r\n]+", " ", str(value))
    return _PUNCT.sub(r"\\\1", text)


def code(value) -> str:
    """Text from data as an inline code span (file names, commands): no backslashes inside, a
    fence longer than any run of backticks in the text.

    Parameters
    ----------
    value : object
        The text, or any value (taken as ``str(value)``).

    Returns
    -------
    str
        The code span, its line breaks made spaces (a space inside each fence when the text
        starts or ends with a backtick).
    """
    text = re.sub(r"[\r\n]+", " ", str(value))
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
