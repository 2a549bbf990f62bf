"""Shared by the bench smoke runs: the test database as a URL for the bench's child processes."""

from urllib.parse import quote

import pytest
from django.db import connection


@pytest.fixture
def bench_database_url(transactional_db) -> str:
    """The test database as a URL for the child processes (they must write where this test reads)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"
