"""The Kubernetes Job manifest docs/generator.md shows, read by a YAML parser as kubectl reads it: an Indexed Job
whose every pod runs the same `salesmcp generate`, told the count the partitions need."""

import re

import yaml

from salesmcp.cli import main
from tests.conftest import ROOT


def manifest() -> dict:
    page = (ROOT / "docs" / "generator.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", page.split("## Partitions on a batch engine", 1)[1], re.DOTALL)
    assert block is not None
    return yaml.safe_load(block[1])


def test_the_manifest_is_an_indexed_job_telling_each_pod_the_count():
    job = manifest()
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] >= spec["parallelism"] >= 1
    (container,) = spec["template"]["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert env["JOB_COMPLETIONS"]["value"] == str(spec["completions"])  # the count the index is out of
    assert "DATABASE_URL" in env and spec["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")


def test_the_manifest_s_command_is_one_our_command_line_accepts():
    (container,) = manifest()["spec"]["template"]["spec"]["containers"]
    program, *args = container["command"]
    assert program == "salesmcp" and "--partition" not in args  # the index comes from the environment
    assert args[0] == "generate"
    command = main.get_command(main.make_context("salesmcp", ["--help"], resilient_parsing=True), args[0])
    assert command is not None
    parsed = command.make_context("generate", args[1:], resilient_parsing=True)
    assert (parsed.params["rows"], parsed.params["seed"], parsed.params["quiet"]) == (10_000_000, 42, True)
