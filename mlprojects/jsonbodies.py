"""The depth limit of every JSON request body, checked where the body is parsed.

No request of this site needs more than a few levels (an MLflow batch is three: the body,
its list of metrics, each metric), yet JSON nested a thousand levels deep makes Python's
parser, or any code that walks the result recursively, raise ``RecursionError``: a 500 on
any endpoint. Each parser (the MLflow layer, the v1 API, bulk uploads) calls
:func:`check_depth` on what it parsed and turns :class:`TooDeep` into a refusal in its own
API's error shape. ``RecursionError`` from the parser itself is the same refusal.
"""

from typing import Any

MAX_DEPTH = 32


class TooDeep(ValueError):
    def __init__(self, limit: int = MAX_DEPTH) -> None:
        super().__init__(f"The JSON body is nested more than {limit} levels deep.")
        self.limit = limit


def check_depth(value: Any, *, raw: bytes | None = None, limit: int = MAX_DEPTH) -> None:
    """Refuse ``value`` (a parsed JSON document) if containers nest more than ``limit``
    deep: ``[]`` is one level, ``{"a": [1]}`` two.

    With the ``raw`` bytes, a body holding no more opening brackets than the limit is
    passed without a walk: a columnar upload of millions of numbers costs two scans in C.
    The walk keeps its own stack, so it cannot itself run out of recursion.
    """
    if raw is not None and raw.count(b"[") + raw.count(b"{") <= limit:
        return
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise TooDeep(limit)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
