"""The stand-in's where= parser (no database): OR/AND, escapes, methods, GUID, errors."""

import pytest

from apps.sandbox.xero.books import QueryError, where_compile

RECORD = {"Reference": 'SHP-"1"', "Status": "DRAFT", "Name": "Ada", "EmailAddress": ""}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('Reference=="SHP-\\"1\\""', True),
        ('Reference=="SHP-1" OR Reference=="SHP-\\"1\\""', True),
        ('Reference=="SHP-1" || Status=="DRAFT"', True),
        ('Reference=="SHP-\\"1\\"" AND Status=="PAID"', False),
        ('Status=="PAID" OR (Name=="Ada" && Status!="PAID")', True),
        ("EmailAddress==null", True),
        ('Name.StartsWith("Ad")', True),
        ('Name.Contains("x")', False),
        ('reference=="SHP-\\"1\\""', True),  # field names are case-insensitive
    ],
)
def test_where(where, expected):
    assert where_compile(where)(RECORD) is expected


@pytest.mark.parametrize("where", ['Reference=="a" OR', "Reference=", 'Nope=="a"', '"a"=="a"'])
def test_bad_where_is_a_query_error(where):
    with pytest.raises(QueryError):
        where_compile(where)(RECORD)
