"""Column names: the decode-log contract and the aliases other tools write.

A log's columns are renamed to wergap's names in two steps: first the caller's explicit
``columns={their_name: our_name}`` mapping, then the aliases below (case-insensitive). A
column that already has wergap's name wins over its aliases, which are then kept untouched
as extra columns; two aliases of the same name with no column of that name are ambiguous
and must be resolved with ``columns=``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wergap.errors import InputError

#: wergap name -> other names accepted for it (compared case-insensitively).
ALIASES: dict[str, tuple[str, ...]] = {
    "utt_id": ("id", "utt", "uttid", "utterance_id", "key", "audio_id"),
    "speaker_id": ("spk", "speaker", "spk_id", "speakerid", "client_id"),
    "ref": ("reference", "text", "transcript", "ref_text"),
    "hyp": ("hypothesis", "pred_text", "prediction", "hyp_text"),
    "errors": ("num_errors", "word_errors"),
    "ref_words": ("num_words", "n_words", "ref_len", "wc", "wordcount", "word_count"),
    "substitutions": ("s", "sub", "subs"),
    "deletions": ("d", "del", "dels"),
    "insertions": ("i", "ins"),
    "lat": ("latitude",),
    "lon": ("longitude", "lng", "long"),
    "zip": ("zipcode", "zip_code", "postal_code", "zcta"),
    "audio": ("audio_filepath", "path", "wav"),
    "system": (),
}


#: Names that hold a transcript, an id or a path in some tool's logs: never a speaker
#: attribute in a report (a transcript column beside the canonical ``ref`` keeps its name).
def private_column_names() -> dict[str, str]:
    """``{lower-case name: wergap name}`` of the transcript, id and path columns and all
    their aliases (``"transcript": "ref"``)."""
    names = {}
    for canonical in ("utt_id", "speaker_id", "ref", "hyp", "audio"):
        names[canonical] = canonical
        names.update(dict.fromkeys(ALIASES[canonical], canonical))
    return names


#: Columns read as text whatever they look like ("0001" must stay "0001").
STRING_COLUMNS = ("utt_id", "speaker_id", "ref", "hyp", "zip", "audio", "system")
#: Count columns: non-negative integers.
COUNT_COLUMNS = ("errors", "ref_words", "substitutions", "deletions", "insertions")
SPLIT_COLUMNS = ("substitutions", "deletions", "insertions")

MAPPED_COLUMN_MISSING = "columns= maps {column!r}, which the log does not have (it has: {have})"
DUPLICATE_COLUMN = "column name {column!r} appears more than once in the header"
AMBIGUOUS_ALIASES = "columns {found} all mean {canonical!r}; choose one with columns={{name: {canonical!r}}}"
TARGET_TWICE = "columns {found} are all mapped to {canonical!r}; map only one"


def aliases_text(canonical: str) -> str:
    """``'ref' (or reference, text, ...)`` — used in missing-column messages."""
    others = ALIASES.get(canonical, ())
    return f"{canonical!r} (or {', '.join(others)})" if others else repr(canonical)


def rename_map(
    names: Iterable[str], columns: Mapping[str, str] | None = None, *, file: str | None = None
) -> dict[str, str]:
    """Return ``{column in the log: wergap name}`` for the columns that get renamed.

    Parameters
    ----------
    names : iterable of str
        The log's column names, in order.
    columns : mapping, optional
        Explicit ``{their_name: our_name}``; their names must exist in the log (exact
        match, or case-insensitive when unique).
    file : str, optional
        Named in errors.

    Raises
    ------
    InputError
        A mapped column that does not exist, a duplicate header name, or ambiguous aliases.
    """
    names = [str(n) for n in names]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(DUPLICATE_COLUMN.format(column=name), file=file, row=1 if file else None)
        seen.add(name)

    renames: dict[str, str] = {}
    for theirs, ours in (columns or {}).items():
        match = theirs if theirs in seen else _casefold_match(theirs, names)
        if match is None:
            raise InputError(MAPPED_COLUMN_MISSING.format(column=theirs, have=", ".join(names)), file=file)
        renames[match] = ours
    targets = list(renames.values())
    for target in set(targets):
        if targets.count(target) > 1:
            found = [k for k, v in renames.items() if v == target]
            raise InputError(TARGET_TWICE.format(found=found, canonical=target), file=file)

    # Names taken after the explicit mapping: a mapped-to name, or a name left as it is.
    taken = {renames.get(n, n) for n in names}
    for canonical, others in ALIASES.items():
        if canonical in taken:
            continue
        found = [n for n in names if n not in renames and n.lower() in others + (canonical,)]
        if len(found) > 1:
            raise InputError(AMBIGUOUS_ALIASES.format(found=found, canonical=canonical), file=file)
        if found:
            renames[found[0]] = canonical
            taken.add(canonical)
    return renames


def _casefold_match(name: str, names: list[str]) -> str | None:
    matches = [n for n in names if n.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else None
