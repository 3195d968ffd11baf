"""docs/how-it-works.md is executed: every command it shows is run and every message it shows is sent, in
order, against real servers on free ports, and the answers are compared with the ones on the page.

The page marks each fenced block it shows with an HTML comment just above it:
``<!-- check: start -->`` (a command that starts the servers), ``stdio-server`` (the stdio MCP server
to talk to), ``send`` (JSON-RPC messages for its stdin, one per line), ``receive`` (the answer
expected on its stdout), ``shell`` (``$ command`` lines, each followed by its expected output) and
``log`` (lines expected in the log of ``salesmcp up``). Only timestamps, durations, version numbers
and ports are normalised.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from salesmcp.cli.processes import stop_process, wait_until_healthy
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stops `salesmcp up` with SIGINT, as Ctrl-C does")

PAGE = ROOT / "docs" / "how-it-works.md"
TEXT = PAGE.read_text(encoding="utf-8")
TIMEOUT = 60
CHECKED = re.compile(r"<!-- check: (?P<kind>[a-z-]+) -->\n```(?P<lang>[a-z]*)\n(?P<body>.*?)\n```", re.S)
DOC_PORTS = {"customers": 5001, "sales": 5002, "main": 8080}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} ")
DURATION = re.compile(r"\(\d+ ms\)$")


def blocks() -> list[tuple[str, str]]:
    return [(m["kind"], m["body"]) for m in CHECKED.finditer(TEXT)]


# -- normalising -------------------------------------------------------------------------------------


ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")
ANY_LINES = "…"  # on the page, a line of its own: any number of output lines (progress comes as it comes)


def normal_json(value: Any) -> Any:
    """The server's version number and timestamps (also inside a tool's text) are not part of what the page shows."""
    if isinstance(value, str):
        return ISO_TIMESTAMP.sub("<timestamp>", value)
    if isinstance(value, dict):
        normal = {key: normal_json(item) for key, item in value.items()}
        if isinstance(normal.get("serverInfo"), dict):
            normal["serverInfo"] = {**normal["serverInfo"], "version": "<version>"}
        return normal
    if isinstance(value, list):
        return [normal_json(item) for item in value]
    return value


def normal_line(line: str) -> Any:
    """A line of output or log as compared: JSON (also after ``data: ``) as data, timestamps and durations out."""
    line = line.rstrip("\r")
    prefix, _, rest = line.partition("data: ") if line.startswith("data: ") else ("", "", line)
    try:
        return prefix, normal_json(json.loads(rest))
    except ValueError:
        return DURATION.sub("(<n> ms)", TIMESTAMP.sub("<time> ", line))


def output_lines(text: str) -> list[Any]:
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return [normal_line(line) for line in lines]


def matches(actual: list[Any], expected: list[Any]) -> bool:
    """``actual`` is ``expected``, where an expected ``…`` line stands for any number of lines."""
    if not expected:
        return not actual
    if expected[0] == ANY_LINES:
        return any(matches(actual[skip:], expected[1:]) for skip in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and matches(actual[1:], expected[1:])


# -- running the page ------------------------------------------------------------------------------


class Walkthrough:
    """Runs the page's blocks in order, keeping the servers they start."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.ports = {name: free_port() for name in DOC_PORTS}
        self.up: subprocess.Popen | None = None
        self.up_log: list[str] = []
        self.log_cursor = 0
        self.stdio: subprocess.Popen | None = None
        self.deadline = time.monotonic() + 5 * TIMEOUT

    def local(self, text: str) -> str:
        """The page's ports (5001, 5002, 8080) as the ports of this run."""
        for name, port in DOC_PORTS.items():
            text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{self.ports[name]}")
        return text

    def argv(self, command: str) -> list[str]:
        words = shlex.split(self.local(command))
        if words[0] == "salesmcp":
            return [sys.executable, "-m", "salesmcp", *words[1:]]
        if words[0] == "python":
            return [sys.executable, *words[1:]]
        if words[0] == "curl":
            return [CURL, *words[1:]]
        raise AssertionError(f"the page runs a command this test does not know: {command}")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LOG_LEVEL": "INFO",
            "CUSTOMER_API_PORT": str(self.ports["customers"]),
            "SALES_API_PORT": str(self.ports["sales"]),
            "PORT": str(self.ports["main"]),
            "CUSTOMER_API_URL": f"http://127.0.0.1:{self.ports['customers']}",
            "SALES_API_URL": f"http://127.0.0.1:{self.ports['sales']}",
        }

    def run(self, kind: str, body: str) -> None:
        getattr(self, kind.replace("-", "_"))(body)

    def start(self, body: str) -> None:
        assert body == "$ salesmcp up", "the page starts the servers with `salesmcp up`"
        self.up = subprocess.Popen(
            self.argv(body[2:]), cwd=self.workdir, env=self.env(), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        threading.Thread(target=lambda: self.up_log.extend(self.up.stderr), daemon=True).start()
        for port in self.ports.values():
            assert wait_until_healthy(f"http://127.0.0.1:{port}/health", TIMEOUT, self.up), "".join(self.up_log)
        self.wait_for(lambda: any("Press Ctrl-C" in line for line in self.up_log), "the banner of salesmcp up")

    def stdio_server(self, body: str) -> None:
        assert body.startswith("$ ") and "\n" not in body
        self.stdio = subprocess.Popen(
            self.argv(body[2:]), cwd=ROOT, env=self.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.watchdog = threading.Timer(TIMEOUT * 3, self.stdio.kill)  # bounds every read from it
        self.watchdog.start()

    def send(self, body: str) -> None:
        for line in body.splitlines():
            json.loads(line)  # one whole message per line, as the stdio transport wants
            self.stdio.stdin.write(line + "\n")
        self.stdio.stdin.flush()

    def receive(self, body: str) -> None:
        expected = json.loads(body)
        line = self.stdio.stdout.readline()
        assert line, "the stdio server closed stdout instead of answering"
        assert normal_json(json.loads(line)) == normal_json(expected)

    def shell(self, body: str) -> None:
        commands: list[tuple[str, list[str]]] = []
        for line in body.split("\n"):
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif commands and commands[-1][0].endswith("\\"):
                commands[-1] = (commands[-1][0][:-1] + line, commands[-1][1])
            else:
                commands[-1][1].append(line)
        for command, shown in commands:
            result = subprocess.run(self.argv(command), capture_output=True, text=True, timeout=TIMEOUT)
            assert result.returncode == 0, (command, result.stderr)
            assert matches(output_lines(result.stdout), output_lines("\n".join(shown))), (command, result.stdout)

    def log(self, body: str) -> None:
        """Each line shows up in the log of `salesmcp up`, in this order."""
        for expected in body.split("\n"):

            def found(expected: str = expected) -> bool:
                for i in range(self.log_cursor, len(self.up_log)):
                    if normal_line(self.up_log[i].rstrip("\n")) == normal_line(expected):
                        self.log_cursor = i + 1
                        return True
                return False

            self.wait_for(found, f"the log line {expected!r}")

    def wait_for(self, condition, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            assert time.monotonic() < deadline, f"no {what} within {TIMEOUT} s:\n{''.join(self.up_log)}"
            time.sleep(0.05)

    def close(self) -> None:
        if self.stdio is not None:
            self.stdio.stdin.close()  # as Ctrl-D: the server stops
            try:
                assert self.stdio.wait(timeout=TIMEOUT) == 0
            finally:
                self.watchdog.cancel()
                stop_process(self.stdio)
        if self.up is not None:
            self.up.send_signal(signal.SIGINT)
            try:
                assert self.up.wait(timeout=TIMEOUT) == 0
            finally:
                stop_process(self.up)


CURL = shutil.which("curl") or "curl"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the page's HTTP examples are curl commands")
def test_the_page_runs_as_written(tmp_path):
    walk = Walkthrough(tmp_path)
    try:
        for kind, body in blocks():
            walk.run(kind, body)
    finally:
        walk.close()
    assert "Traceback" not in "".join(walk.up_log)


def test_every_command_and_message_on_the_page_is_checked():
    fenced = re.findall(r"^```([a-z]*)$", TEXT, re.M)[::2]  # opening fences only
    checked = blocks()
    assert [kind for kind, _ in checked].count("send") >= 4 and [k for k, _ in checked].count("shell") >= 3
    shown = [lang for lang in fenced if lang]  # the one block without a language is the diagram
    assert len(shown) == len(checked), "a json/console/text block on the page has no <!-- check: … --> above it"
    assert len(fenced) - len(shown) == 1


def test_the_page_walks_through_initialize_tools_list_and_tools_call_and_answers_54():
    methods = [json.loads(line)["method"] for kind, body in blocks() if kind == "send" for line in body.splitlines()]
    assert methods[:4] == ["initialize", "notifications/initialized", "tools/list", "tools/call"]
    assert '\\"total_revenue\\":54' in TEXT and "**54**" in TEXT
    assert "notifications/progress" in TEXT and "generate_data" in TEXT  # section 5: the generator's progress


def test_every_file_and_function_the_page_points_at_exists():
    links = re.findall(r"\[([^\]]+)\]\((\.\./[^)]+)\)", TEXT)
    assert len(links) > 10
    for text, target in links:
        path = (PAGE.parent / target).resolve()
        assert path.is_file(), target
        source = path.read_text(encoding="utf-8")
        for name in re.findall(r"`([A-Za-z_][\w.]*)(\(\))?`", text):
            identifier, called = name[0].rsplit(".", 1)[-1], name[1]
            if called:
                assert f"def {identifier}(" in source, (identifier, target)
            elif identifier[0].isupper():
                assert f"class {identifier}" in source, (identifier, target)
