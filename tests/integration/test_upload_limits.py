"""A hostile DataSource file on a running stack: the action takes it, the parse refuses it, bytes stay."""

from __future__ import annotations

import gzip

import pytest

from stepstore import Card, DataSource, Page, Section, StoreInterface
from stepstore.errors import UploadLimitError
from tests.unit.test_upload_limits import parquet_bomb


def test_a_parquet_bomb_and_a_data_sources_own_limit_on_the_stack(stack, alice, flow_id):
    step = StoreInterface(flow_id, step_name="load")
    sources = [DataSource("Data", ["parquet"]), DataSource("Few rows", ["csv"], max_rows=2)]
    step.update_page(Page("p", [Section("s", [Card("c", sources)])]))
    assert step.get_element("load", "Few rows").max_rows == 2  # the limit travels with the page
    bomb = parquet_bomb()
    step.upload_data_source("load", "Data", "bomb.parquet", bomb)
    step.upload_data_source("load", "Few rows", "rows.csv.gz", gzip.compress(b"a\n1\n2\n3\n"))
    with pytest.raises(UploadLimitError) as refused:
        step.run_action()
    assert "'bomb.parquet' uploaded to DataSource 'Data' on step 'load'" in str(refused.value)
    assert "limit of 536,870,912 bytes" in str(refused.value)
    # the raw bytes are kept, and the other file is refused by its own DataSource's limit
    assert step.get_raw_data_source_data(element_title="Data").getvalue() == bomb
    with pytest.raises(UploadLimitError, match=r"'rows\.csv\.gz' .* over the limit of 2 rows"):
        step.get_element_value("load", "Few rows")
