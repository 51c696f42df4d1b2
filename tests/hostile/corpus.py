"""Request bodies that break parsers: malformed, truncated, deeply nested, not UTF-8, huge
numbers, ``null`` and other non-objects, byte-order marks, CRLF, NUL, and so on.

Each corpus maps a name (what the input is, shown in the test id) to the raw bytes sent.
The JSON corpus holds whole documents; the CSV and NDJSON corpora hold uploads of metric
points (``key,step,timestamp,value``), each a body no parser may crash on, be it accepted
or refused. :mod:`tests.hostile.strategies` generates more of the same kind.
"""

# Deeper than Python's recursion limit (1000), as the 1,100 levels that once answered 500.
DEPTH = 1100
HEADER = b"key,step,timestamp,value\n"
POINT = b'{"key": "loss", "step": 0, "timestamp": 1700000000000, "value": 0.5}'


def nested(depth: int = DEPTH, *, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


def nested_objects(depth: int = DEPTH) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


JSON: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b" \r\n\t ",
    "null": b"null",
    "null padded": b"  null  ",
    "true": b"true",
    "number": b"42",
    "string": b'"text"',
    "empty array": b"[]",
    "array of null": b"[null]",
    "truncated object": b'{"key": "loss", "value": ',
    "truncated string": b'{"key": "lo',
    "truncated escape": b'{"key": "\\u12',
    "unclosed array": b"[1, 2, 3",
    "unbalanced close": b'{"a": 1}}',
    "trailing comma": b'{"a": 1,}',
    "single quotes": b"{'a': 1}",
    "bare key": b"{a: 1}",
    "comment": b'{"a": 1 /* note */}',
    "deep arrays": nested(),
    "deep objects": nested_objects(),
    "deep under a field": b'{"title": ' + nested() + b"}",
    "deep and unclosed": b"[" * 50_000,
    "not UTF-8": b'{"a": "\xff\xfe"}',
    "overlong UTF-8": b'{"a": "\xc0\xaf"}',
    "lone surrogate": b'{"a": "\\ud800"}',
    "UTF-16": '{"a": 1}'.encode("utf-16"),
    "BOM": b'\xef\xbb\xbf{"a": 1}',
    "NUL byte": b'{"a": "x\x00y"}',
    "NUL escape": b'{"a": "x\\u0000y"}',
    "CRLF": b'{\r\n  "a": 1\r\n}\r\n',
    "huge integer": b'{"a": 1' + b"0" * 400 + b"}",
    "int64 overflow": b'{"a": 9223372036854775808}',
    "int64 underflow": b'{"a": -9223372036854775809}',
    "huge float": b'{"a": 1e400}',
    "tiny float": b'{"a": 1e-400}',
    "NaN literal": b'{"a": NaN}',
    "Infinity literal": b'{"a": -Infinity}',
    "hex number": b'{"a": 0x10}',
    "leading zeros": b'{"a": 007}',
    "duplicate keys": b'{"a": 1, "a": 2}',
    "two documents": b'{"a": 1}{"a": 2}',
    "long key": b'{"' + b"k" * 100_000 + b'": 1}',
}

CSV: dict[str, bytes] = {
    "empty": b"",
    "null": b"null\n",
    "header only": HEADER,
    "no header": b"loss,0,1700000000000,0.5\n",
    "header misspelt": b"key,stp,timestamp,value\nloss,0,1,0.5\n",
    "header twice": HEADER + HEADER,
    "BOM": b"\xef\xbb\xbf" + HEADER + b"loss,0,1,0.5\n",
    "CRLF": HEADER.replace(b"\n", b"\r\n") + b"loss,0,1,0.5\r\nloss,1,2,0.25\r\n",
    "CR only": HEADER.replace(b"\n", b"\r") + b"loss,0,1,0.5\r",
    "blank lines": HEADER + b"\n\nloss,0,1,0.5\n\n",
    "missing column": HEADER + b"loss,0,1\n",
    "extra column": HEADER + b"loss,0,1,0.5,9\n",
    "quoted newline": HEADER + b'"lo\nss",0,1,0.5\n',
    "unterminated quote": HEADER + b'"loss,0,1,0.5\n',
    "not UTF-8 key": HEADER + b"l\xffss,0,1,0.5\n",
    "NUL": HEADER + b"lo\x00ss,0,1,0.5\n",
    "empty key": HEADER + b",0,1,0.5\n",
    "null fields": HEADER + b"null,null,null,null\n",
    "hex step": HEADER + b"loss,0x10,1,0.5\n",
    "underscore step": HEADER + b"loss,1_000,1,0.5\n",
    "plus step": HEADER + b"loss,+5,1,0.5\n",
    "spaced step": HEADER + b"loss, 5 ,1,0.5\n",
    "float step": HEADER + b"loss,1.5,1,0.5\n",
    "negative step": HEADER + b"loss,-1,1,0.5\n",
    "int64 overflow step": HEADER + b"loss,9223372036854775808,1,0.5\n",
    "huge step": HEADER + b"loss,1" + b"0" * 400 + b",1,0.5\n",
    "huge value": HEADER + b"loss,0,1,1e400\n",
    "tiny value": HEADER + b"loss,0,1,1e-400\n",
    "hex value": HEADER + b"loss,0,1,0x1p3\n",
    "word value": HEADER + b"loss,0,1,many\n",
    "NaN and infinities": HEADER + b"loss,0,1,NaN\nloss,1,2,Infinity\nloss,2,3,-inf\n",
    "long line": HEADER + b"k" * 200_000 + b",0,1,0.5\n",
    "truncated last line": HEADER + b"loss,0,1,0.5\nloss,1,",
}

NDJSON: dict[str, bytes] = {
    "empty": b"",
    "null": b"null\n",
    "null padded": b"  null  ",
    "null after a point": POINT + b"\nnull\n",
    "array": b"[]\n",
    "number": b"1\n",
    "string": b'"x"\n',
    "true": b"true\n",
    "BOM then null": b"\xef\xbb\xbfnull\n",
    "BOM then a point": b"\xef\xbb\xbf" + POINT + b"\n",
    "CRLF": POINT + b"\r\n" + POINT.replace(b"0,", b"1,", 1) + b"\r\n",
    "blank lines": b"\n\n" + POINT + b"\n\n",
    "whitespace lines": b"   \n\t\n" + POINT + b"\n",
    "truncated": POINT[:30],
    "truncated last line": POINT + b"\n" + POINT[:20],
    "two per line": POINT + POINT + b"\n",
    "deep value": b'{"key": "loss", "step": 0, "timestamp": 1, "value": ' + nested() + b"}\n",
    "deep line": nested() + b"\n",
    "not UTF-8": b'{"key": "l\xffss", "step": 0, "timestamp": 1, "value": 0.5}\n',
    "NUL": b'{"key": "lo\x00ss", "step": 0, "timestamp": 1, "value": 0.5}\n',
    "missing field": b'{"key": "loss", "step": 0, "value": 0.5}\n',
    "extra field": b'{"key": "loss", "step": 0, "timestamp": 1, "value": 0.5, "x": 1}\n',
    "null fields": b'{"key": null, "step": null, "timestamp": null, "value": null}\n',
    "string step": b'{"key": "loss", "step": "0", "timestamp": 1, "value": 0.5}\n',
    "float step": b'{"key": "loss", "step": 1.5, "timestamp": 1, "value": 0.5}\n',
    "int64 overflow step": b'{"key": "loss", "step": 9223372036854775808, "timestamp": 1, '
    b'"value": 0.5}\n',
    "huge value": b'{"key": "loss", "step": 0, "timestamp": 1, "value": 1e400}\n',
    "NaN literal": b'{"key": "loss", "step": 0, "timestamp": 1, "value": NaN}\n',
    "object key": b'{"key": {"a": 1}, "step": 0, "timestamp": 1, "value": 0.5}\n',
    "duplicate field": b'{"key": "loss", "key": "acc", "step": 0, "timestamp": 1, "value": 0.5}\n',
}
