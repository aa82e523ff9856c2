"""Artifacts in the lab, in headless Chromium against a real JupyterLab and a real backend.

Two runs of `build` make a model per region (the partition read from an input) and a
table with a model card; `report` reads the European model through its query default.
A user finds them in the Artifacts tab, narrows the list by name and by partition, opens
a version (its partitions, producer and rendered card), follows its lineage graph to the
executions that made and read it, and sees in an execution's node what the node emitted.
"""

from __future__ import annotations

import re
import time
from types import ModuleType

import pytest
from playwright.sync_api import Locator, Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(backend: ServerProcess, resource) -> dict[str, str]:
    """Execution ids: `eu` and `us` (build), `report` (read the eu model); and the eu model's version."""
    module: ModuleType = resource("lab/artifacts.py")
    ids: dict[str, str] = {}
    with backend.remote() as remote:
        remote.register(module.build, module.report)
        for region in ("eu", "us"):
            run = remote.execute(module.build, {"region": region}, wait=True, timeout=120)
            assert run.phase == "SUCCEEDED", (region, run.phase, run.error)
            ids[region] = run.id
        report = remote.execute(module.report, {}, wait=True, timeout=120)
        assert report.phase == "SUCCEEDED", (report.phase, report.error)
        ids["report"] = report.id
        eu = remote.get_artifact(name="lab_model", partitions={"region": "eu"})
        ids["eu_model"] = eu.version
    return ids


def open_artifacts(page: Page) -> Locator:
    """The sidebar's Artifacts tab (opening the plait sidebar first when it is closed); its list."""
    if not page.get_by_role("tablist", name="plait lists").is_visible():  # the tab toggles the sidebar
        page.get_by_role("tab", name="plait: workflows and executions").click()
    page.get_by_role("tab", name="Artifacts", exact=True).click()
    return page.get_by_role("list", name="Artifacts")


def open_version(page: Page, name: str, version: str, search: str = "") -> Locator:
    """Open a version from the Artifacts tab; its view, once shown."""
    listing = open_artifacts(page)
    page.get_by_role("searchbox", name="Search artifacts").fill(search or name)
    row = listing.get_by_role("button", name=f"Artifact {name}", exact=True)
    row.click()
    expect(row).to_have_attribute("aria-expanded", "true")
    page.get_by_role("button", name=f"Open {name} version {version}").click()
    view = page.get_by_role("region", name=f"Artifact {name} version {version}")
    expect(view.get_by_label("About this version")).to_be_visible(timeout=15_000)
    return view


def wait_for_saved_layout(page: Page, text: str, timeout: float = 15.0) -> None:
    """Wait until the lab has saved its layout (the open views) with `text` in it."""
    workspace = page.url.split("/lab")[0] + "/lab/api/workspaces/default"
    deadline = time.monotonic() + timeout
    while text not in page.request.get(workspace).text():
        assert time.monotonic() < deadline, f"the lab did not save a layout with {text} in {timeout} s"
        page.wait_for_timeout(200)


def test_the_artifacts_tab_lists_and_narrows_by_name_and_partition(page: Page, runs: dict[str, str]) -> None:
    listing = open_artifacts(page)
    model = listing.get_by_role("button", name="Artifact lab_model", exact=True)
    table = listing.get_by_role("button", name="Artifact lab_table", exact=True)
    expect(model).to_contain_text("2 versions · keys: region · newest", timeout=15_000)
    expect(table).to_contain_text("2 versions · keys: source")
    page.shots("artifacts-tab")

    search = page.get_by_role("searchbox", name="Search artifacts")
    search.fill("table")
    expect(model).to_be_hidden()
    expect(table).to_be_visible()
    search.fill("region=us")  # only the model has a region, and a version in us
    expect(table).to_be_hidden()
    expect(model).to_be_visible()
    search.fill("region=asia")
    expect(page.locator(".plait-Sidebar .plait-Empty")).to_contain_text("No artifacts match “region=asia”.")

    # a name opens its versions, newest first; with a partition filter only that partition's
    search.fill("")
    model.click()
    versions = page.get_by_role("list", name="Versions of lab_model")
    expect(versions.get_by_role("listitem")).to_have_count(2)
    expect(versions.get_by_role("listitem").first).to_contain_text("region=us")
    expect(versions.get_by_role("listitem").first).to_contain_text(runs["us"])
    search.fill("lab_model region=eu")
    expect(table).to_be_hidden()
    expect(model).to_contain_text("matching")
    expect(versions.get_by_role("listitem")).to_have_count(1)
    expect(versions).to_contain_text("region=eu")
    expect(versions).to_contain_text(runs["eu"])
    page.shots("versions-in-a-partition")


def test_a_version_shows_its_partitions_producer_card_and_lineage(page: Page, runs: dict[str, str]) -> None:
    # the table: its partition given at return, its model card rendered as Markdown
    listing = open_artifacts(page)
    page.get_by_role("searchbox", name="Search artifacts").fill("lab_table")
    listing.get_by_role("button", name="Artifact lab_table", exact=True).click()
    newest = page.get_by_role("list", name="Versions of lab_table").get_by_role("listitem").first
    newest.get_by_role("button", name=re.compile("^Open lab_table version ")).click()
    table = page.get_by_role("region", name=re.compile("^Artifact lab_table version "))
    facts = table.get_by_label("About this version")
    expect(facts).to_contain_text("source=census", timeout=15_000)
    expect(facts).to_contain_text(f"execution {runs['us']}, node n0")
    expect(facts).to_contain_text("list[int]")
    card = table.get_by_role("region", name="Model card")
    expect(card.get_by_role("heading", name="Lab table", level=1)).to_be_visible()  # JupyterLab's Markdown
    expect(card.locator("strong")).to_have_text("sample")
    expect(table.get_by_role("region", name="Load it")).to_contain_text('plait.Remote().get_artifact("plait://default/development/lab_table@')
    page.shots("artifact-view-with-card")

    # the eu model: made by the eu build, read by the report
    model = open_version(page, "lab_model", runs["eu_model"], search="lab_model region=eu")
    expect(model.get_by_label("About this version")).to_contain_text("region=eu")
    lineage = model.get_by_role("region", name="Lineage")
    graph = lineage.get_by_role("group", name=re.compile("^DAG of artifact lineage of lab_model@"))
    expect(graph).to_be_visible(timeout=30_000)
    producer = graph.locator(f".plait-DagNode[data-path='execution:{runs['eu']}']")
    consumer = graph.locator(f".plait-DagNode[data-path='execution:{runs['report']}']")
    expect(producer).to_have_class(re.compile("plait-DagKind-execution"))
    expect(consumer).to_be_visible()
    expect(graph.locator(f".plait-DagNode[data-path='artifact:lab_model@{runs['eu_model']}']")).to_have_class(
        re.compile("plait-DagKind-artifact"))
    expect(lineage).to_contain_text(f"Made by {runs['eu']}")
    expect(lineage).to_contain_text(f"Read by {runs['report']}")
    lineage.scroll_into_view_if_needed()
    page.shots("lineage-graph")

    consumer.locator(".plait-DagNode-body").click()
    view = page.get_by_role("region", name=f"Execution {runs['report']}")
    expect(view).to_be_visible(timeout=15_000)
    # the report's input came from the artifact: its header links back to the version
    inputs = view.get_by_role("list", name="Artifacts consumed by the execution")
    expect(inputs).to_contain_text(f"lab_model@{runs['eu_model'][:8]}")
    expect(inputs).to_contain_text("query default · input model · region=eu")


def test_an_execution_node_shows_the_artifact_it_emitted_and_links_to_it(page: Page, runs: dict[str, str]) -> None:
    from browser import open_execution

    open_execution(page, runs["eu"])
    page.get_by_role("table", name="Nodes").locator("tr[data-path='n1']").click()
    panel = page.get_by_role("complementary", name="Node n1")
    emitted = panel.get_by_role("list", name="Artifacts emitted by n1")
    expect(emitted).to_contain_text(f"lab_model@{runs['eu_model'][:8]}", timeout=15_000)
    expect(emitted).to_contain_text("emitted · output o0 · region=eu")
    page.shots("node-emitted-artifact")
    emitted.get_by_role("button", name=f"lab_model@{runs['eu_model'][:8]}").click()
    model = page.get_by_role("region", name=f"Artifact lab_model version {runs['eu_model']}")
    expect(model.get_by_label("About this version")).to_contain_text(f"execution {runs['eu']}, node n1")

    # the view comes back when the lab is loaded again, like the other views
    wait_for_saved_layout(page, runs["eu_model"])
    page.reload()
    expect(model.get_by_label("About this version")).to_contain_text("region=eu", timeout=60_000)
