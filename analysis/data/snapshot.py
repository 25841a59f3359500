"""The website-text snapshot that ``python -m analysis collect`` writes and the loader reads.

A snapshot is one CSV file, ``website_text.csv``, with one row per fetched page:

``company_id, url, fetched_at, status, sha256, text``

Rows of one firm are in the order the collector fetched them: the home page first, then the
business pages it chose (about, products, solutions).  ``text`` is the page's main text
(UTF-8), empty when the page gave none (an error status, not HTML, text added only by
JavaScript).

:func:`merge` turns the rows into one ``website_text`` per firm, in a fixed, documented
order: the firm's non-empty page texts in file order, a paragraph (line) already seen on an
earlier page of the same firm dropped, joined with a blank line.  The merged text replaces
the corpus's own ``website_text`` for every firm that has some; firms without snapshot text
keep what the corpus had.  This module reads files only; it never touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SNAPSHOT_FILE = "website_text.csv"
SNAPSHOT_COLUMNS = ["company_id", "url", "fetched_at", "status", "sha256", "text"]


class SnapshotError(ValueError):
    """A snapshot file that cannot be used; the message names the file, row and column."""


@dataclass(frozen=True)
class SnapshotInfo:
    """What a merge did, for the Data chapter."""

    path: Path
    n_pages: int  # rows in the snapshot
    n_firms_with_text: int  # corpus firms whose website_text now comes from the snapshot
    first_fetch: str | None
    last_fetch: str | None


def snapshot_path(value: str | Path) -> Path:
    """The snapshot file a parameter names: the CSV itself, or the folder ``collect --out``
    wrote (which holds ``website_text.csv``).

    Parameters
    ----------
    value : str or Path
        The snapshot file or its folder (``~`` expanded).

    Returns
    -------
    Path
        The file, as an absolute path (it need not exist).
    """
    path = Path(value).expanduser().resolve()
    return path / SNAPSHOT_FILE if path.is_dir() else path


def read(value: str | Path) -> pd.DataFrame:
    """Read and check a snapshot; a bad file raises :class:`SnapshotError`.

    Parameters
    ----------
    value : str or Path
        The snapshot file or its folder (see :func:`snapshot_path`).

    Returns
    -------
    pandas.DataFrame
        The rows in file order, columns :data:`SNAPSHOT_COLUMNS` as text (extra columns dropped).

    Raises
    ------
    SnapshotError
        No such file, not UTF-8 CSV, a column missing, an empty ``company_id``, or a ``status``
        that is neither empty nor three digits.
    """
    path = snapshot_path(value)
    if not path.is_file():
        raise SnapshotError(f"{path}: no such snapshot file; expected the {SNAPSHOT_FILE} written "
                            f"by `python -m analysis collect CORPUS --out DIR` (or that DIR)")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{path}: not UTF-8 text (byte {exc.start}); expected the UTF-8 CSV "
                            f"written by `python -m analysis collect`") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SnapshotError(f"{path}: cannot be read as CSV ({exc}); expected columns "
                            f"{', '.join(SNAPSHOT_COLUMNS)}") from None
    missing = [c for c in SNAPSHOT_COLUMNS if c not in table.columns]
    if missing:
        raise SnapshotError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)} in the header (line 1); expected "
                            f"{', '.join(SNAPSHOT_COLUMNS)}")
    for i, value_ in enumerate(table["company_id"], start=1):
        if not value_.strip():
            raise SnapshotError(f"{path}: data row {i}, column 'company_id' is empty; expected the "
                                f"company_id of the corpus firm the page belongs to")
    bad = table["status"].str.strip().ne("") & ~table["status"].str.fullmatch(r"\d{3}")
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise SnapshotError(f"{path}: data row {i + 1}, column 'status': '{table['status'].iloc[i]}' "
                            f"is not an HTTP status; expected a three-digit code such as 200")
    return table[SNAPSHOT_COLUMNS]


def firm_texts(table: pd.DataFrame) -> dict[str, str]:
    """One text per firm: its non-empty page texts in file order, lines already seen on an
    earlier page of the firm dropped, pages joined by a blank line.

    Parameters
    ----------
    table : pandas.DataFrame
        Snapshot rows (``company_id`` and ``text`` are read), as :func:`read` returns them.

    Returns
    -------
    dict of str to str
        company_id -> the firm's text, in order of first appearance; lines are stripped, and
        firms without any text are left out.
    """
    out: dict[str, str] = {}
    for cid, rows in table.groupby("company_id", sort=False):
        seen: set[str] = set()
        pages = []
        for text in rows["text"]:
            kept = []
            for line in str(text).splitlines():
                key = line.strip()
                if key and key not in seen:
                    seen.add(key)
                    kept.append(key)
            if kept:
                pages.append("\n".join(kept))
        if pages:
            out[str(cid)] = "\n\n".join(pages)
    return out


def merge(frame: pd.DataFrame, value: str | Path) -> tuple[pd.DataFrame, SnapshotInfo]:
    """``frame`` (one row per firm, with ``company_id`` and ``website_text``) with the snapshot's
    text in ``website_text`` for every firm that has some; other firms keep theirs.

    A snapshot none of whose firms is in ``frame`` belongs to another corpus: an error.

    Parameters
    ----------
    frame : pandas.DataFrame
        The firms, with ``company_id`` and ``website_text``.
    value : str or Path
        The snapshot file or its folder.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with the snapshot's text merged in (:func:`firm_texts`).
    SnapshotInfo
        The snapshot's path, pages, firms given text, and first and last fetch times.

    Raises
    ------
    SnapshotError
        The snapshot is bad (see :func:`read`), or has rows but none of ``frame``'s firms.
    """
    path = snapshot_path(value)
    table = read(path)
    texts = firm_texts(table)
    ids = frame["company_id"].astype(str)
    if len(table) and not set(table["company_id"]) & set(ids):
        raise SnapshotError(f"{path}: none of its {table['company_id'].nunique()} company_id values "
                            f"is in the corpus (first: '{table['company_id'].iloc[0]}'); expected a "
                            f"snapshot collected from this corpus")
    out = frame.copy()
    new = ids.map(texts)
    has = new.notna()
    out.loc[has, "website_text"] = new[has]
    stamps = table["fetched_at"][table["fetched_at"].str.strip().ne("")]
    info = SnapshotInfo(path=path, n_pages=len(table), n_firms_with_text=int(has.sum()),
                        first_fetch=stamps.min() if len(stamps) else None,
                        last_fetch=stamps.max() if len(stamps) else None)
    return out, info
