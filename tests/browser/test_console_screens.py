"""Assets and connections in the console: filters, versions, metadata, lineage, shares, downloads,
and never a secret on screen."""

from __future__ import annotations

import uuid

import pandas as pd
import requests
from playwright.sync_api import expect

from stepstore import Dataset, Model, StoreInterface

SECRET = f"hunter2-{uuid.uuid4().hex}"


def test_assets_list_filters_and_an_assets_versions_metadata_links_and_shares(console, make_user):
    bob = make_user("bob", use=False)
    alice = make_user("alice")
    store = StoreInterface(f"assets-{uuid.uuid4().hex[:6]}", step_name="train")
    data = Dataset(pd.DataFrame({"units": [1, 2, 3]}), "sales 2026")
    store.save_asset(data)
    model = Model({"weights": [0.5, 0.25]}, "demand", metadata={"auc": 0.91, "trained_on": "sales 2026"})
    model.link_asset("training data", data)
    store.save_asset(model)
    # The page shows the current version, and links belong to a version: the new one links the data too.
    retrained = Model({"weights": [0.6, 0.2]}, "demand", metadata={"auc": 0.93})
    retrained.link_asset("training data", data)
    store.save_asset(retrained, overwrite=True)
    make_user.act_as(bob)
    StoreInterface("bobs", step_name="s").save_asset(Dataset(pd.DataFrame({"x": [1]}), "bob's data"))
    theirs = StoreInterface("bobs", step_name="s").get_asset("bob's data", "dataset")
    StoreInterface("bobs", step_name="s").share_asset(theirs.id, alice.name)
    make_user.act_as(alice)

    console.sign_in(alice.token)
    page = console.page
    console.open("#/assets")
    page.locator("tr", has_text="demand").wait_for()
    assert page.locator("tbody tr").count() == 3
    console.shot("11-assets")
    page.locator("select").first.select_option("model")
    expect(page.locator("tbody tr")).to_have_count(1)
    assert "demand" in page.locator("tbody").inner_text()
    page.locator("select").first.select_option("")
    page.locator("label", has_text="Shared with me").click()
    expect(page.locator("tbody")).to_contain_text("bob's data")
    expect(page.locator("tbody tr")).to_have_count(1)
    assert (
        "bob's data" in page.locator("tbody").inner_text() and bob.name in page.locator("tbody").inner_text()
    )
    page.locator("label", has_text="Mine").click()
    expect(page.locator("tbody tr")).to_have_count(2)

    page.click("text=demand")
    page.get_by_role("heading", name="Versions").wait_for()
    expect(page.locator(".data-table tbody tr")).to_have_count(2)
    assert "0.93" in page.locator(".details").nth(1).inner_text()  # the current version's metadata
    assert (
        page.locator(".link-list", has_text="training data").locator("a", has_text="sales 2026").count() == 1
    )
    page.fill("#share-user", bob.name)
    page.get_by_role("button", name="Share").click()
    page.locator(".share-list li", has_text=bob.name).wait_for()
    console.shot("12-asset")
    download = page.get_by_role("link", name="Download").get_attribute("href")
    assert download and requests.get(download, timeout=30).status_code == 200
    page.locator(".share-list li", has_text=bob.name).get_by_role("button", name="Unshare").click()
    page.locator("text=Only you can read this asset.").wait_for()

    # The lineage link leads to the linked asset.
    page.click(".link-list a")
    page.locator("h1", has_text="sales 2026").wait_for()


def test_connections_show_names_types_owners_and_shares_but_never_a_secret(console, make_user):
    bob = make_user("bob", use=False)
    alice = make_user("alice")
    store = StoreInterface("conn", step_name="s")
    store.connections.create(
        "warehouse",
        "postgresql",
        {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": SECRET, "database": "test"},
    )
    store.connections.share("warehouse", bob.name)

    console.sign_in(alice.token)
    page = console.page
    console.open("#/connections")
    row = page.locator("tr", has_text="warehouse")
    row.wait_for()
    assert "postgresql" in row.inner_text() and bob.name in row.inner_text() and "you" in row.inner_text()
    console.shot("13-connections")
    page.click("text=warehouse")
    page.locator(".chip", has_text="password").wait_for()
    console.shot("14-connection")
    assert SECRET not in page.content()
    page.locator(".share-list li", has_text=bob.name).get_by_role("button", name="Unshare").click()
    page.locator("text=Only you can use this connection.").wait_for()
    assert SECRET not in page.content()
