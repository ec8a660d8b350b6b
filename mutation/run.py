"""Mutation-test one core module with cosmic-ray: `python -m mutation.run MODULE` (or `make mutation`).

Each module is run against the tests that exercise it (MODULES below), not the whole suite, so that
one module takes minutes. The code is mutated in a scratch copy of `sdk/` and `functions/` under
`.mutation/MODULE/` (ignored by git), never in the working tree: an interrupted run cannot leave a
mutant behind. The tests run from the working tree with that copy first on the import path.

A session is cosmic-ray's own: `.mutation/MODULE/session.toml` and `session.sqlite`, so
`cr-report .mutation/MODULE/session.sqlite` and `cr-html ...` work on it. The summary and every
surviving mutant's diff go to `.mutation/MODULE/report.md`.

Only mutants that change observable behaviour are counted. Those that cannot (a timeout moved by a
second, a connection pool one larger) are excluded by the line they are on: each module's
`excluded` lists a piece of that line's text and the reason, and the report counts them apart.
A line marked `# pragma: no mutate` is excluded too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRAGMA = "pragma: no mutate"
# A test run that failed here failed setting up, not on the mutant (a stack too slow on a loaded
# machine): such a "kill" is not counted, and --retest runs it again.
SETUP_FAILURES = ("RuntimeError: creating user", "the fork server did not start")


@dataclass(frozen=True)
class Module:
    path: str
    tests: tuple[str, ...]
    timeout: float = 180.0
    # Text on a line -> why no mutant of that line can change what a caller observes.
    excluded: dict[str, str] = field(default_factory=dict)


# The tests that exercise each module. A test file that does not exist (yet) is left out.
MODULES: dict[str, Module] = {
    "uploads": Module(
        "functions/stepstore_functions/logic/uploads.py",
        (
            "tests/unit/test_upload_planning.py",
            "tests/integration/test_upload_rules.py",
            "tests/integration/test_uploads.py",
            "tests/integration/test_request_validation.py",
        ),
        excluded={
            "@dataclass(frozen=True) @ ReplaceTrueWithFalse": "Ticket and OpenedUpload are handed from the "
            "logic to a handler and read once; nothing assigns to them, frozen or not",
        },
    ),
    "client": Module(
        "sdk/stepstore/client.py",
        ("tests/unit/test_client_resilience.py", "tests/unit/test_client.py"),
        timeout=120.0,
        excluded={
            "CONNECT_TIMEOUT = @ NumberReplacer": "how long to wait for a connection: seen only by timing",
            "READ_TIMEOUT = @ NumberReplacer": "how long to wait for an answer: seen only by timing",
            "def new_session(pool_size": "connection pool capacity: a performance setting",
            "pool_connections=": "connection pool capacity: a performance setting",
            "pool_size=16)": "connection pool capacity: a performance setting",
            '"maxsize": pool_size': "connection pool capacity: a performance setting",
            "hexdigest()[:16]": "length of the token digest in a cache key: any length keeps callers apart",
            'raise AssertionError("unreachable")': "after the loop, which always returns or raises",
            "def request(self, method: str, path: str, *,": "the keyword-only `*`, not a multiplication",
        },
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
    "formats": Module(
        "sdk/stepstore/formats.py",
        ("tests/unit/test_formats.py",),
        timeout=120.0,
        excluded={
            "ROW_GROUP_ROWS = @ NumberReplacer": "rows per Parquet row group: how a frame is chunked, "
            "not what comes back",
            "return json.dumps(value) if math.isfinite(value)": "both branches write the same text: "
            "json.dumps writes NaN and Infinity unless told not to",
        },
    ),
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


def _session_config(module: Module, mutated: Path, tests: list[str], server: Path) -> str:
    pytest_args = ["-x", "-q", "-p", "no:cacheprovider", *tests]
    command = " ".join(
        [
            sys.executable,
            "-m",
            "mutation.forkserver",
            "run",
            str(server),
            str(module.timeout),
            "--",
            *pytest_args,
        ]
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


def _exclude(db, module: Module, mutated: Path) -> int:
    """Mark the pending mutants of excluded lines as skipped (not run); how many mutants are excluded."""
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    lines = mutated.read_text().splitlines()
    unused = [r for r in module.excluded if not any(r.partition(" @ ")[0] in line for line in lines)]
    if unused:  # the code changed under an exclusion: say so rather than silently count differently
        raise SystemExit(f"excluded text no longer in {module.path}: {unused}")
    pending = {item.job_id for item in db.pending_work_items}
    count = 0
    for item in db.work_items:
        mutation = item.mutations[0]
        if _excluded_by(module, lines[mutation.start_pos[0] - 1], mutation.operator_name) is not None:
            count += 1
            if item.job_id in pending:
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
    return count


def _forget_survivors(session: Path) -> int:
    """Clear the results of surviving mutants (and of runs that failed in setup), to try them again."""
    import sqlite3

    with sqlite3.connect(session) as db:
        gone = db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount
        for failure in SETUP_FAILURES:
            gone += db.execute(
                "DELETE FROM work_results WHERE test_outcome = 'KILLED' AND output LIKE ?", (f"%{failure}%",)
            ).rowcount
    return gone


def _excluded_by(module: Module, line: str, operator: str) -> str | None:
    """Why the mutant `operator` makes on `line` is excluded, if it is.

    A rule is a piece of the line's text, optionally followed by " @ " and a piece of the operator's
    name (e.g. "ROW_GROUP_ROWS = @ NumberReplacer") when only that kind of mutant is equivalent.
    """
    rules = {**module.excluded, PRAGMA: "marked in the code"}
    for rule, why in rules.items():
        text, _, kind = rule.partition(" @ ")
        if text in line and kind in operator:
            return why
    return None


def _report(name: str, module: Module, db, mutated: Path, seconds: float, out: Path) -> str:
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    lines = mutated.read_text().splitlines()
    killed, survivors, unsure = 0, [], 0
    excluded: dict[str, int] = {}
    for item, result in db.completed_work_items:
        mutation = item.mutations[0]
        why = _excluded_by(module, lines[mutation.start_pos[0] - 1], mutation.operator_name)
        if why is not None:
            excluded[why] = excluded.get(why, 0) + 1
            continue
        if result.worker_outcome in (WorkerOutcome.SKIPPED, WorkerOutcome.NO_TEST):
            continue
        if result.worker_outcome is WorkerOutcome.EXCEPTION or result.test_outcome is TestOutcome.INCOMPETENT:
            # cosmic-ray could not make or run this mutant (its ExceptionReplacer fails on some tuples)
            why = "cosmic-ray could not apply the mutation"
            excluded[why] = excluded.get(why, 0) + 1
        elif result.test_outcome is TestOutcome.KILLED and any(
            f in (result.output or "") for f in SETUP_FAILURES
        ):
            unsure += 1
        elif result.test_outcome is TestOutcome.KILLED:
            killed += 1
        else:
            survivors.append((item, result))
    counted = killed + len(survivors)
    score = 100.0 * killed / counted if counted else 0.0
    summary = (
        f"{name} ({module.path}): {counted} mutants, {killed} killed, {len(survivors)} survived, "
        f"score {score:.1f} %; {sum(excluded.values())} excluded; {unsure} failed in setup (not counted); "
        f"{seconds / 60:.1f} min"
    )
    lines = [f"# Mutation testing: {name}", "", summary, "", "Tests: " + ", ".join(module.tests), ""]
    lines += [f"Pending (not run yet): {db.num_work_items - db.num_results}", ""]
    lines += [f"Failed in setup, not counted (run --retest): {unsure}", ""]
    lines += ["Excluded (no observable behaviour):", *(f"- {n}: {why}" for why, n in excluded.items()), ""]
    for item, result in survivors:
        mutation = item.mutations[0]
        lines += [f"## survived: {mutation.operator_name} at line {mutation.start_pos[0]}", "", "```diff"]
        lines += [line for line in result.diff.splitlines() if not line.startswith("--- mutation diff")]
        lines += ["```", ""]
    out.write_text("\n".join(lines))
    return summary


def run(name: str, mode: str = "new") -> str:
    """Mutate `name` and run its tests: a `new` session, or `resume` one, or `retest` its survivors
    (after tests were added), or only `report` on it."""
    module = MODULES[name]
    work = ROOT / ".mutation" / name
    work.mkdir(parents=True, exist_ok=True)
    if mode == "report":  # on the copy the session mutated (a run may still be using it)
        return _report_only(name, module, work, work / "src" / module.path)
    source = _copy_sources(work)
    mutated = source / module.path
    tests = [t for t in module.tests if (ROOT / t).exists()]
    if not tests:
        raise SystemExit(f"no tests exist for {name}: {module.tests}")
    config_path = work / "session.toml"
    server_path = work / "forkserver.sock"
    config_path.write_text(_session_config(module, mutated, tests, server_path))
    # The tests import the mutated copy: first on the path, and never from stale bytecode (a mutant
    # the same size as the original, written in the same second, would otherwise be skipped).
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(source / "sdk"), str(source / "functions"), os.environ.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    os.environ["MUTATION_TEST_LOG"] = str(work / "last-test-run.log")
    os.chdir(ROOT)
    server = subprocess.Popen(
        [sys.executable, "-m", "mutation.forkserver", "serve", str(server_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if server.stdout is None or server.stdout.readline().strip() != "ready":
            raise SystemExit("the fork server did not start")
        return _run_session(name, module, work, mutated, tests, config_path, mode)
    finally:
        from mutation.forkserver import stop

        stop(str(server_path))
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def _run_session(
    name: str,
    module: Module,
    work: Path,
    mutated: Path,
    tests: list[str],
    config_path: Path,
    mode: str,
) -> str:
    from cosmic_ray.commands import execute, init
    from cosmic_ray.config import load_config
    from cosmic_ray.work_db import WorkDB, use_db

    from mutation.operators import install

    session = work / "session.sqlite"
    keep_session = mode != "new"
    if session.exists() and not keep_session:
        session.unlink()
    if mode == "retest" and session.exists():
        print(f"{name}: {_forget_survivors(session)} survivors to try again", flush=True)

    install()
    config = load_config(str(config_path))
    started = time.monotonic()
    with use_db(str(session), WorkDB.Mode.create) as db:
        if not keep_session or db.num_work_items == 0:
            init([mutated], db, config.operators_config)
        excluded = _exclude(db, module, mutated)
        print(f"{name}: {db.num_work_items} mutants, {excluded} excluded; baseline: {tests}", flush=True)
        from cosmic_ray.testing import run_tests

        outcome, output = run_tests(config.test_command, module.timeout)
        if outcome.name != "SURVIVED":
            raise SystemExit(f"the tests fail without any mutation; fix them first:\n{output}")
        execute(db, config)
        summary = _report(name, module, db, mutated, time.monotonic() - started, work / "report.md")
    print(summary)
    print(f"survivors and their diffs: {work / 'report.md'}")
    return summary


def _report_only(name: str, module: Module, work: Path, mutated: Path) -> str:
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(str(work / "session.sqlite"), WorkDB.Mode.open) as db:
        return _report(name, module, db, mutated, 0.0, work / "report.md")


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
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--resume", action="store_true", help="continue the last session")
    how.add_argument("--retest", action="store_true", help="try the last session's survivors again")
    how.add_argument("--report", action="store_true", help="only summarise the last session")
    args = parser.parse_args(argv)
    mode = "resume" if args.resume else "retest" if args.retest else "report" if args.report else "new"
    summaries = [run(name, mode) for name in args.modules or sorted(MODULES)]
    print("\n".join(summaries))


if __name__ == "__main__":
    main()
