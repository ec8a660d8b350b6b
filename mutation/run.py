"""Mutation-test one core module with cosmic-ray: `python -m mutation.run MODULE` (or `make mutation`).

Each module is run against the tests that exercise it (MODULES below), not the whole suite, so that
one module takes minutes. The code is mutated in a scratch copy of `sdk/` and `functions/` under
`.mutation/MODULE/` (ignored by git), never in the working tree: an interrupted run cannot leave a
mutant behind. The tests run from the working tree with that copy first on the import path.

A session is cosmic-ray's own: `.mutation/MODULE/session.toml` and `session.sqlite`, so
`cr-report .mutation/MODULE/session.sqlite` and `cr-html ...` work on it. The summary and every
surviving mutant's diff go to `.mutation/MODULE/report.md`.

Mutants on lines marked `# pragma: no mutate` are skipped: each such mark is explained in
TESTING.md (a mutant that changes no observable behaviour).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRAGMA = "pragma: no mutate"


@dataclass(frozen=True)
class Module:
    path: str
    tests: tuple[str, ...]
    timeout: float = 180.0


# The tests that exercise each module. A test file that does not exist (yet) is left out.
MODULES: dict[str, Module] = {
    "uploads": Module(
        "functions/stepstore_functions/logic/uploads.py",
        (
            "tests/unit/test_upload_planning.py",
            "tests/integration/test_upload_rules.py",
            "tests/integration/test_uploads.py",
        ),
    ),
    "client": Module(
        "sdk/stepstore/client.py",
        ("tests/unit/test_client.py", "tests/unit/test_client_resilience.py"),
        timeout=120.0,
    ),
    # Behaviour only: requests that break a rule. The OpenAPI snapshot test is left out on purpose.
    "api": Module(
        "functions/stepstore_functions/models/api.py",
        (
            "tests/integration/test_request_validation.py",
            "tests/integration/test_uploads.py",
            "tests/integration/test_flows.py",
        ),
    ),
    "formats": Module("sdk/stepstore/formats.py", ("tests/unit/test_formats.py",), timeout=120.0),
    "assets": Module(
        "functions/stepstore_functions/logic/assets.py",
        (
            "tests/unit/test_assets_logic.py",
            "tests/integration/test_upload_ownership.py",
            "tests/integration/test_assets.py",
            "tests/integration/test_assets_sharing.py",
            "tests/integration/test_assets_transfer.py",
        ),
        timeout=300.0,
    ),
}


def _copy_sources(work: Path) -> Path:
    source = work / "src"
    if source.exists():
        shutil.rmtree(source)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for root in ("sdk", "functions"):
        shutil.copytree(ROOT / root, source / root, ignore=ignore)
    return source


def _session_config(module: Module, mutated: Path, tests: list[str]) -> str:
    command = " ".join(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *tests]
    )
    return (
        "[cosmic-ray]\n"
        f'module-path = "{mutated}"\n'
        f"timeout = {module.timeout}\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n'
        "\n[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )


def _skip_pragma_lines(db, mutated: Path) -> int:
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    lines = mutated.read_text().splitlines()
    skipped = 0
    for item in db.work_items:
        mutation = item.mutations[0]
        if PRAGMA in lines[mutation.start_pos[0] - 1]:
            db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
            skipped += 1
    return skipped


def _report(name: str, module: Module, db, skipped: int, seconds: float, out: Path) -> str:
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    killed, survivors, incompetent = 0, [], 0
    for item, result in db.completed_work_items:
        if result.worker_outcome is WorkerOutcome.SKIPPED:
            continue
        if result.worker_outcome is WorkerOutcome.NO_TEST:
            continue
        if result.test_outcome is TestOutcome.KILLED:
            killed += 1
        elif result.test_outcome is TestOutcome.SURVIVED:
            survivors.append((item, result))
        else:
            incompetent += 1  # the mutant does not even import: counted as killed
    counted = killed + incompetent + len(survivors)
    score = 100.0 * (killed + incompetent) / counted if counted else 0.0
    summary = (
        f"{name} ({module.path}): {counted} mutants, {killed + incompetent} killed "
        f"({incompetent} of them broke the import), {len(survivors)} survived, "
        f"score {score:.1f} %; {skipped} excluded by '{PRAGMA}'; {seconds / 60:.1f} min"
    )
    lines = [f"# Mutation testing: {name}", "", summary, "", "Tests: " + ", ".join(module.tests), ""]
    for item, result in survivors:
        mutation = item.mutations[0]
        lines += [f"## survived: {mutation.operator_name} at line {mutation.start_pos[0]}", "", "```diff"]
        lines += [line for line in result.diff.splitlines() if not line.startswith("--- mutation diff")]
        lines += ["```", ""]
    out.write_text("\n".join(lines))
    return summary


def run(name: str, keep_session: bool = False) -> str:
    from cosmic_ray.commands import execute, init
    from cosmic_ray.config import load_config
    from cosmic_ray.work_db import WorkDB, use_db

    from mutation.operators import install

    module = MODULES[name]
    work = ROOT / ".mutation" / name
    work.mkdir(parents=True, exist_ok=True)
    source = _copy_sources(work)
    mutated = source / module.path
    tests = [t for t in module.tests if (ROOT / t).exists()]
    if not tests:
        raise SystemExit(f"no tests exist for {name}: {module.tests}")
    config_path = work / "session.toml"
    config_path.write_text(_session_config(module, mutated, tests))
    session = work / "session.sqlite"
    if session.exists() and not keep_session:
        session.unlink()

    # The tests import the mutated copy: first on the path, and never from stale bytecode (a mutant
    # the same size as the original, written in the same second, would otherwise be skipped).
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(source / "sdk"), str(source / "functions"), os.environ.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    os.chdir(ROOT)

    install()
    config = load_config(str(config_path))
    started = time.monotonic()
    with use_db(str(session), WorkDB.Mode.create) as db:
        if not keep_session or db.num_work_items == 0:
            init([mutated], db, config.operators_config)
            skipped = _skip_pragma_lines(db, mutated)
        else:
            skipped = sum(1 for _, r in db.completed_work_items if r.worker_outcome.name == "SKIPPED")
        print(f"{name}: {db.num_work_items} mutants, {skipped} excluded; baseline run of {tests}", flush=True)
        from cosmic_ray.testing import run_tests

        outcome, output = run_tests(config.test_command, module.timeout)
        if outcome.name != "SURVIVED":
            raise SystemExit(f"the tests fail without any mutation; fix them first:\n{output}")
        execute(db, config)
        summary = _report(name, module, db, skipped, time.monotonic() - started, work / "report.md")
    print(summary)
    print(f"survivors and their diffs: {work / 'report.md'}")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "modules",
        nargs="*",
        choices=[*sorted(MODULES), []],
        help="which modules (all, one after another, if none)",
    )
    parser.add_argument("--resume", action="store_true", help="continue the last session instead of anew")
    args = parser.parse_args(argv)
    summaries = [run(name, keep_session=args.resume) for name in args.modules or sorted(MODULES)]
    print("\n".join(summaries))


if __name__ == "__main__":
    main()
