"""The bundle check (infra/bundle.py) and the pins it relies on; `make bundle` runs it on the real build."""

from __future__ import annotations

import re
import shutil
from importlib import metadata
from pathlib import Path

import pytest

from infra import bundle
from infra.components.functions import powertools_layer_account, powertools_layer_arn
from infra.constants import POWERTOOLS_LAYER_VERSION, POWERTOOLS_VERSION_IN_LAYER


@pytest.fixture
def fake_bundle(tmp_path: Path) -> Path:
    """Our packages plus stand-ins for the locked wheels, as `bundle.build` lays them out."""
    root = tmp_path / "bundle"
    shutil.copytree(bundle.FUNCTIONS_DIR / "stepstore_functions", root / "stepstore_functions")
    shutil.copytree(bundle.SDK_PACKAGE, root / "stepstore")
    for name in ("pynamodb", "requests", "urllib3"):
        (root / name).mkdir()
        (root / name / "__init__.py").write_text("")
        info = root / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: py3-none-any\n")
    return root


def test_a_complete_bundle_passes_and_reports_its_size(fake_bundle):
    report = bundle.check(fake_bundle)
    assert report.problems == []
    assert {"pynamodb", "requests", "aws_lambda_powertools", "pydantic"} <= report.third_party
    assert "pandas" not in report.third_party  # the SDK imports it lazily, the API never
    assert 0 < report.zipped_bytes < report.unzipped_bytes


def test_a_missing_dependency_is_named(fake_bundle):
    shutil.rmtree(fake_bundle / "pynamodb")
    assert any(p.startswith("pynamodb is imported") for p in bundle.check(fake_bundle).problems)


def test_what_the_layer_provides_must_not_be_bundled(fake_bundle):
    (fake_bundle / "pydantic").mkdir()
    assert "pydantic is bundled but the Powertools layer provides it" in bundle.check(fake_bundle).problems


def test_extensions_and_wheels_for_another_python_or_machine_are_refused(fake_bundle):
    (fake_bundle / "urllib3" / "_speedups.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    (fake_bundle / "requests-1.0.dist-info" / "WHEEL").write_text("Tag: cp311-cp311-manylinux2014_x86_64\n")
    problems = bundle.check(fake_bundle, python_version="3.14").problems
    assert any("_speedups" in p and "CPython 3.14" in p for p in problems)
    assert any(p.startswith("requests-1.0.dist-info has wheel tags") for p in problems)
    (fake_bundle / "urllib3" / "_speedups.cpython-311-x86_64-linux-gnu.so").unlink()
    (fake_bundle / "urllib3" / "_ok.cpython-314-aarch64-linux-gnu.so").write_bytes(b"")
    (fake_bundle / "requests-1.0.dist-info" / "WHEEL").write_text("Tag: cp314-cp314-manylinux_2_17_aarch64\n")
    assert bundle.check(fake_bundle, python_version="3.14").problems == []


def test_the_lock_pins_every_requirement_with_hashes_and_leaves_the_runtime_out():
    lock = bundle.LOCK_FILE.read_text()
    pins = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+)", lock, flags=re.MULTILINE))
    wanted = dict(
        re.findall(
            r"^([a-z0-9_.-]+)==(\S+)",
            (bundle.FUNCTIONS_DIR / "requirements.in").read_text(),
            flags=re.MULTILINE,
        )
    )
    assert wanted and all(pins.get(name) == version for name, version in wanted.items()), "run `make lock`"
    for block in re.split(r"\n(?=[a-z0-9_.-]+==)", lock.split("\n# The following packages were excluded")[0]):
        if "==" in block:
            assert "--hash=sha256:" in block, block.splitlines()[0]
    assert not {"botocore", "boto3", "pydantic", "aws-lambda-powertools"} & set(pins)
    # The tests run the versions the bundle ships.
    for name, version in wanted.items():
        assert metadata.version(name) == version, (
            f"{name}: tests run {metadata.version(name)}, the bundle {version}"
        )


def test_the_layer_carries_the_powertools_the_tests_run():
    assert metadata.version("aws-lambda-powertools") == POWERTOOLS_VERSION_IN_LAYER, (
        f"layer version {POWERTOOLS_LAYER_VERSION} carries Powertools {POWERTOOLS_VERSION_IN_LAYER}; "
        "move both together"
    )


def test_the_layer_arn_is_published_by_the_account_of_each_partition():
    assert powertools_layer_account("eu-west-1") == "017000801446"
    assert powertools_layer_account("us-gov-west-1") == "165093116878"
    assert powertools_layer_account("us-gov-east-1") == "165087284144"
    assert powertools_layer_account("cn-north-1") == "498634801083"
    arn = powertools_layer_arn(38, region="us-gov-west-1", partition="aws-us-gov")
    layer = "AWSLambdaPowertoolsPythonV3-python314-arm64"
    assert arn == f"arn:aws-us-gov:lambda:us-gov-west-1:165093116878:layer:{layer}:38"
