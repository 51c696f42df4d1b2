"""The exact path's one chunking generator: every point read goes into exactly one chunk,
in order, and a reader's error stops it where the error is, never dropping a point."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments.bulk.exact import chunked


@given(items=st.lists(st.integers()), size=st.integers(min_value=1, max_value=50))
def test_every_item_lands_in_exactly_one_chunk_in_order(items, size):
    chunks = list(chunked(iter(items), size))

    assert [item for chunk in chunks for item in chunk] == items
    assert all(len(chunk) == size for chunk in chunks[:-1])
    assert all(0 < len(chunk) <= size for chunk in chunks)


def test_chunks_before_a_reader_error_are_whole_and_the_error_surfaces():
    def reader():
        yield from range(25)
        raise ValueError("line 26: value must be a number")

    chunks = chunked(reader(), 10)

    assert next(chunks) == list(range(10))
    assert next(chunks) == list(range(10, 20))
    with pytest.raises(ValueError, match="line 26"):
        next(chunks)


def test_an_empty_reader_yields_no_chunk():
    assert list(chunked(iter(()), 3)) == []


@pytest.mark.parametrize("size", [0, -1])
def test_a_chunk_holds_at_least_one_item(size):
    with pytest.raises(ValueError, match="at least one"):
        list(chunked([1, 2], size))
