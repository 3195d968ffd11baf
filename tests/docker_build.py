"""A Dockerfile built on this machine, the way Docker would build it, for tests/test_image.py and
tests/test_deployment.py.

No Docker engine runs here and no image registry is reachable, so the tests cannot ``docker build``.
Instead :class:`LocalBuild` reads the Dockerfile and carries out its instructions itself: the build
context is this folder as ``.dockerignore`` filters it, every container path (``/opt/venv``,
``/build``) lives under one folder of the test's, ``RUN`` commands run in ``/bin/sh -c`` there with the
stage's environment, and a later stage sees nothing of an earlier one but what it ``COPY --from``\\ s.
What cannot be done here (the base image itself, switching user) is left to the tests to check.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest

from salesmcp.config import Settings

KNOWN = {"ARG", "FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "EXPOSE", "HEALTHCHECK", "CMD", "LABEL"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each Dockerfile line: comment lines dropped, continuations joined."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in joined.splitlines() if line.strip()
    ]


def expand(text: str, env: Mapping[str, str]) -> str:
    """Docker's variable substitution: ``$NAME``, ``${NAME}`` and ``${NAME:-default}``; unset is empty."""

    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(3)
        return env.get(name) or (match.group(2) or "")

    return _VARIABLE.sub(value, text)


def flags(args: str) -> tuple[dict[str, str], str]:
    """Leading ``--name=value`` options of an instruction, and the rest."""
    options = {}
    while args.startswith("--"):
        option, _, args = args.partition(" ")
        name, _, value = option[2:].partition("=")
        options[name] = value
        args = args.lstrip()
    return options, args


def exec_form(args: str) -> list[str]:
    """A CMD/HEALTHCHECK command in exec form (a JSON array): no shell in between, as on every platform."""
    assert args.startswith("["), f"not in exec form: {args}"
    return json.loads(args)


@dataclass
class Stage:
    base: str
    name: str | None
    steps: list[tuple[str, str]] = field(default_factory=list)

    def args(self, instruction: str) -> list[str]:
        return [args for name, args in self.steps if name == instruction]

    def env(self) -> dict[str, str]:
        """The variables the stage's ENV lines set, as written (unexpanded)."""
        pairs = (pair.partition("=") for raw in self.args("ENV") for pair in shlex.split(raw))
        return {key: value for key, _, value in pairs}


@dataclass
class Dockerfile:
    build_args: dict[str, str]  # ARGs declared before the first FROM, with their defaults
    stages: list[Stage]

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        build_args: dict[str, str] = {}
        stages: list[Stage] = []
        for name, args in instructions(path.read_text(encoding="utf-8")):
            assert name in KNOWN, f"the local build does not know {name}"
            if name == "FROM":
                base, _, alias = args.partition(" AS ") if " AS " in args else args.partition(" as ")
                stages.append(Stage(expand(base.strip(), build_args), alias.strip() or None))
            elif not stages:
                assert name == "ARG", f"{name} before the first FROM"
                key, _, default = args.partition("=")
                build_args[key] = default
            else:
                stages[-1].steps.append((name, args))
        return cls(build_args, stages)


def healthcheck(args: str) -> tuple[dict[str, str], list[str]]:
    """A HEALTHCHECK's options and its command."""
    options, rest = flags(args)
    assert rest.startswith("CMD "), rest
    return options, exec_form(rest[4:])


def ignore_rules(path: Path) -> list[tuple[bool, re.Pattern]]:
    """.dockerignore as Docker reads it: (is an exception ``!``, pattern) in order; ``**`` spans folders."""
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        rules.append((exception, _pattern(str(PurePosixPath(line.lstrip("!").strip().lstrip("/"))))))
    return rules


def _pattern(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex, as Docker translates it: ``*`` and ``?`` within one name,
    ``**/`` any number of folders (none too), a trailing ``**`` everything."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            i += 2 + pattern.startswith("/", i + 2)
            regex += ".*" if i == len(pattern) else "(.*/)?"
            continue
        char = pattern[i]
        regex += "[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char)
        i += 1
    return re.compile(regex)


def is_ignored(relative: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for exception, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not exception
    return ignored


def build_context(source: Path, target: Path) -> list[str]:
    """Copy what ``source``'s .dockerignore lets into the build context to ``target``; the files copied."""
    rules = ignore_rules(source / ".dockerignore")
    exceptions = [regex.pattern for exception, regex in rules if exception]
    copied = []
    for top, dirs, files in os.walk(source):
        folder = Path(top)
        relative_folder = folder.relative_to(source).as_posix()
        prefix = "" if relative_folder == "." else relative_folder + "/"
        # A folder no exception can reach into is not entered at all (.git, .venv).
        dirs[:] = [
            d for d in dirs if not is_ignored(prefix + d, rules) or any(e.startswith(prefix + d) for e in exceptions)
        ]
        for name in files:
            if not is_ignored(prefix + name, rules):
                (target / prefix).mkdir(parents=True, exist_ok=True)
                shutil.copy2(folder / name, target / prefix / name)
                copied.append(prefix + name)
    return copied


@dataclass
class Result:
    """The final stage as a container would start: its environment, folder, user, command, health check."""

    env: dict[str, str]
    workdir: Path
    user: str | None
    cmd: list[str]
    healthcheck: list[str]
    fs: Path

    def container_path(self, path: str) -> Path:
        return self.fs / path.lstrip("/")


@dataclass
class LocalBuild:
    """Build ``dockerfile``'s stages under ``root`` with ``context`` as the build context.

    ``base_env`` stands for the base image's environment; ``run_env`` is added to every RUN (how this
    machine reaches packages, say); a RUN that ``skip_run`` accepts is not run (one that would change this
    machine rather than an image, e.g. useradd). Every other RUN runs exactly as written.
    """

    dockerfile: Dockerfile
    context: Path
    root: Path
    base_env: dict[str, str]
    run_env: dict[str, str] = field(default_factory=dict)
    skip_run: Callable[[str], bool] = lambda command: False
    timeout: float = 300
    ran: list[str] = field(default_factory=list)

    @property
    def fs(self) -> Path:
        return self.root / "fs"

    def host_path(self, path: str, workdir: Path | None = None) -> Path:
        """Where a container path lives here (relative paths from ``workdir``)."""
        if path.startswith("/"):
            return self.fs / path.lstrip("/")
        assert workdir is not None, path
        return workdir / path

    def build(self) -> Result:
        finished: dict[str, Path] = {}
        result = None
        for index, stage in enumerate(self.dockerfile.stages):
            if self.fs.exists():  # each stage starts on its own, empty filesystem
                done = self.root / f"stage-{index - 1}"
                self.fs.rename(done)
                finished[self.dockerfile.stages[index - 1].name or str(index - 1)] = done
            self.fs.mkdir(parents=True)
            result = self._stage(stage, finished)
        assert result is not None
        return result

    def _stage(self, stage: Stage, finished: dict[str, Path]) -> Result:
        env = dict(self.base_env)
        workdir = self.fs
        user = None
        cmd: list[str] = []
        check: list[str] = []
        for name, raw in stage.steps:
            if name == "ENV":
                before = dict(env)
                for pair in shlex.split(raw):
                    key, sep, value = pair.partition("=")
                    assert sep, f"ENV {raw}: write ENV NAME=value"
                    parts = value.split(":")
                    mapped = [
                        str(self.host_path(p)) if p.startswith("/") and not p.startswith("//") else p for p in parts
                    ]
                    env[key] = expand(":".join(mapped), before)
            elif name == "WORKDIR":
                workdir = self.host_path(expand(raw, env), workdir)
                workdir.mkdir(parents=True, exist_ok=True)
            elif name == "COPY":
                self._copy(raw, env, workdir, finished)
            elif name == "RUN":
                self._run(raw, env, workdir)
            elif name == "USER":
                user = expand(raw, env)
            elif name == "CMD":
                cmd = exec_form(raw)
            elif name == "HEALTHCHECK":
                check = healthcheck(raw)[1]
        return Result(env, workdir, user, cmd, check, self.fs)

    def _copy(self, raw: str, env: dict[str, str], workdir: Path, finished: dict[str, Path]) -> None:
        options, rest = flags(expand(raw, env))
        *sources, dest = rest.split()
        if "from" in options:
            sources_at = [finished[options["from"]] / source.lstrip("/") for source in sources]
        else:
            sources_at = [self.context / source for source in sources]
        target = self.host_path(dest, workdir)
        into_folder = dest.endswith("/") or dest == "." or len(sources) > 1
        for source in sources_at:
            assert not any(char in str(source) for char in "*?["), f"COPY globs are not supported here: {raw}"
            assert source.exists(), f"COPY {raw}: {source} is not in the build context (see .dockerignore)"
            if source.is_dir():  # a folder's contents are copied, as Docker does
                shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
            else:
                file_target = target / source.name if into_folder else target
                file_target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, file_target)

    def _run(self, raw: str, env: dict[str, str], workdir: Path) -> None:
        if self.skip_run(raw):
            return
        assert not raw.startswith("["), "RUN in exec form is not supported here"
        # A literal container path would be a path of this machine here: RUN names them through variables.
        assert not re.search(r"(?<![\w$}.])/[a-z]", raw), f"RUN names a container path literally: {raw}"
        self.ran.append(raw)
        result = subprocess.run(["/bin/sh", "-c", raw], cwd=workdir, env={**env, **self.run_env},
                                capture_output=True, text=True, timeout=self.timeout)  # fmt: skip
        assert result.returncode == 0, f"RUN {raw} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


# -- this repository's image, built on the test machine --------------------------------------------

# Variables that Compose (interpolation) or salesmcp (Settings) would take from the developer's shell.
OUR_VARIABLES = {name.upper() for name in Settings.model_fields}
# No test reaches a package registry: the local build's pip takes every dependency from this machine's
# environment (which `pip install -e ".[dev]"` filled by the same pyproject.toml), with no index, and builds
# our wheel with the setuptools the dev extra installs (pip reads PIP_NO_BUILD_ISOLATION=0 as
# --no-build-isolation). The Dockerfile's RUN commands themselves run unchanged.
SITE_PACKAGES = os.pathsep.join(path for path in sys.path if Path(path).name in ("site-packages", "dist-packages"))
OFFLINE = {"PYTHONPATH": SITE_PACKAGES, "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"}
BUILD_TIMEOUT = 180
_BUILT: dict[Path, Result] = {}


def clean_environment() -> dict[str, str]:
    """This process's environment without any variable that would change Compose's or salesmcp's view."""
    return {key: value for key, value in os.environ.items() if key not in OUR_VARIABLES}


def base_image_environment() -> dict[str, str]:
    """The base image's environment, played by this machine: its Python and pip first on PATH."""
    env = {key: value for key, value in clean_environment().items()
           if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}  # fmt: skip
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def build_image(source: Path, root: Path) -> Result:
    """``source``'s Dockerfile built here under ``root`` (once per test session): the build context as
    .dockerignore filters it, the builder's RUN commands, and the image's environment as a container gets it.
    The image's only RUN, ``useradd``, is skipped: this machine's users are not the build's to change."""
    if os.name == "nt":
        pytest.skip("the image's RUN commands need a POSIX shell (/bin/sh), as in the image")
    dockerfile = source / "Dockerfile"
    if dockerfile not in _BUILT:
        build_context(source, root / "context")
        build = LocalBuild(Dockerfile.read(dockerfile), root / "context", root, base_image_environment(),
                           run_env=OFFLINE, skip_run=lambda command: command.startswith("useradd "),
                           timeout=BUILD_TIMEOUT)  # fmt: skip
        started = time.monotonic()
        result = build.build()
        print(f"the image's build ran here in {time.monotonic() - started:.1f} s: {build.ran}")
        result.env["PYTHONPATH"] = SITE_PACKAGES  # what the venv holds besides salesmcp is this machine's here
        _BUILT[dockerfile] = result
    return _BUILT[dockerfile]


def in_image(image: Result, command: list[str]) -> list[str]:
    """A container command with its program found on the image's PATH."""
    program = shutil.which(command[0], path=image.env["PATH"])
    assert program, f"{command[0]} is not on the image's PATH"
    return [program, *command[1:]]


def run_health_check(image: Result, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """The image's HEALTHCHECK command, run as Docker runs it: in the container's folder and environment."""
    return subprocess.run(in_image(image, image.healthcheck), env=env, cwd=image.workdir, capture_output=True,
                          timeout=timeout)  # fmt: skip
