"""Functions the isolated child process runs (see :mod:`tests.hostile.isolated`): each
takes bytes and returns plain JSON, so that what native code made can be compared."""

import ctypes
import io

import pyarrow as pa


def echo(body: bytes) -> dict:
    return {"length": len(body)}


def refuse(message: str) -> None:
    raise ValueError(message)


def segfault() -> None:
    """What a crash in native code looks like from Python: the process dies by a signal."""
    ctypes.string_at(0)


def fast_read(media_type: str, body: bytes) -> dict:
    """The bulk fast path's reader of ``media_type`` over ``body``, to the end: the points it
    read, or that it declined (the exact reader then reads the body). Nothing is stored."""
    from experiments.bulk import MAX_JSON_BYTES, fast

    points = 0
    try:
        for columns in fast.FAST[media_type](io.BytesIO(body), MAX_JSON_BYTES):
            points += len(columns)
    except fast.Irregular:
        return {"declined": True}
    except (pa.ArrowException, ValueError, OverflowError) as error:
        # What log_fast turns into a decline.
        return {"declined": True, "error": type(error).__name__}
    return {"points": points}
