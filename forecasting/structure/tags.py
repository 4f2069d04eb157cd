"""Hierarchies built from series tags (``reporter``, ``partner``, ``flow``...).

A statistics office's series carry their dimensions as tags. :func:`hierarchy_from_tags`
turns a set of bottom-level series and the tag keys to aggregate over into the map that
:func:`~forecasting.forecast_hierarchy` takes: a grand total, and one aggregate per value of
each key (a grouped structure: partner totals and flow totals over the same partner-by-flow
series).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from forecasting.exceptions import InvalidHierarchyError

__all__ = ["hierarchy_from_tags", "tag_node_id"]


def tag_node_id(root: str, key: str, value: str) -> str:
    """The id of the aggregate of every series whose tag ``key`` is ``value``: ``root:key=value``."""
    return f"{root}:{key}={value}"


def _check_by(by: Sequence[str]) -> tuple[str, ...]:
    keys = tuple(by) if not isinstance(by, str) else (by,)
    if not keys or not all(isinstance(k, str) and k for k in keys) or len(set(keys)) != len(keys):
        raise InvalidHierarchyError(f"by must list one or more distinct tag keys; got {list(keys)!r}.")
    return keys


def _combination(series_id: str, tags: Mapping[str, str], keys: tuple[str, ...]) -> tuple[str, ...]:
    absent = [k for k in keys if k not in tags]
    if absent:
        raise InvalidHierarchyError(
            f"series {series_id!r} has no {absent[0]!r} tag (its tags: {dict(tags)!r}); every series of a "
            f"structure by {list(keys)!r} needs each of those tags. Tag it, or narrow the selection."
        )
    return tuple(str(tags[k]) for k in keys)


def hierarchy_from_tags(tags: Mapping[str, Mapping[str, str]], by: Sequence[str], root: str) -> dict[str, list[str]]:
    """The grouped hierarchy of bottom-level series by the values of their tags.

    Parameters
    ----------
    tags : mapping of str to mapping of str to str
        Each bottom-level series id and its tags.
    by : sequence of str
        Tag keys to aggregate over, e.g. ``["partner", "flow"]``. Each series must carry every
        key, and no two series may share the same combination of values.
    root : str
        Id of the grand total; aggregates are named ``root:key=value`` (:func:`tag_node_id`).

    Returns
    -------
    dict of str to list of str
        ``root`` sums the aggregates of the first key; each ``root:key=value`` sums the series
        with that value. With one key, the first key's aggregates are the only ones.

    Raises
    ------
    InvalidHierarchyError
        No series, a missing tag, two series with the same combination, or a bad ``by``.

    Examples
    --------
    >>> hierarchy_from_tags({"cn_x": {"partner": "CN", "flow": "export"},
    ...                      "cn_m": {"partner": "CN", "flow": "import"}}, ["flow"], "ru")
    {'ru': ['ru:flow=export', 'ru:flow=import'], 'ru:flow=export': ['cn_x'], 'ru:flow=import': ['cn_m']}
    """
    keys = _check_by(by)
    if not tags:
        raise InvalidHierarchyError("no series matches the selection; a structure by tags needs at least one.")
    seen: dict[tuple[str, ...], str] = {}
    for sid in sorted(tags):
        combo = _combination(sid, tags[sid], keys)
        if combo in seen:
            raise InvalidHierarchyError(
                f"series {seen[combo]!r} and {sid!r} have the same {list(keys)!r} tags {list(combo)!r}; "
                "each series of a structure by tags needs its own combination (add a key to by, or narrow the "
                "selection)."
            )
        seen[combo] = sid
    out: dict[str, list[str]] = {}
    for i, key in enumerate(keys):
        groups: dict[str, list[str]] = {}
        for combo, sid in sorted(seen.items()):
            groups.setdefault(combo[i], []).append(sid)
        nodes = {tag_node_id(root, key, value): members for value, members in sorted(groups.items())}
        if i == 0:
            out[root] = list(nodes)
        out.update(nodes)
    if root in tags or any(node in tags for node in out):
        raise InvalidHierarchyError(f"the structure's aggregate ids {list(out)[:3]!r}... clash with series ids.")
    return out
