"""What the three console scripts share: one error path and the checks made before anything
is written.

- Every expected failure ends as one line `error: ...` on stderr naming the field, file or
  directory and what is accepted or what to do. Exit codes: 2 bad input (nothing written),
  1 a run or the sweep failed, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). A
  traceback is printed only with `--debug` or HYDRA_FULL_ERROR=1.
- Hydra is always called with HYDRA_FULL_ERROR=1, so its exceptions reach this error path
  instead of Hydra's own (multi-line) printing.
- Overrides are parsed and composed here before Hydra creates any directory: deletions
  (`~key`) are refused, sweeps are expanded exactly as Hydra's basic sweeper expands them,
  and output directories must be non-empty and writable.
"""

from __future__ import annotations

import copy
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from experiments.output import is_disk_error, one_line
from simulation.presets import CONFIG_DIR, register_schema

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

#: Hydra's flags that only print something (help, the config, version): passed through
INFO_FLAGS = {"-h", "--help", "--hydra-help", "--version", "-c", "--cfg", "-i", "--info",
              "-sc", "--shell-completion", "--resolve", "-p", "--package"}
#: Hydra's flags that take a value in the next argument
VALUE_FLAGS = {"-c", "--cfg", "-p", "--package"}
#: Hydra's flags that select another config: not supported (the checks use the packaged one)
UNSUPPORTED_FLAGS = {"-cp", "--config-path", "-cn", "--config-name", "-cd", "--config-dir",
                     "--experimental-rerun"}


class UsageError(Exception):
    """Bad input: the command stops before writing anything, exit code 2."""


class RunFailure(Exception):
    """A run or the sweep failed: exit code 1."""


# --------------------------------------------------------------------------- the error path


def debug_requested(flags: set[str]) -> bool:
    return "--debug" in flags or os.environ.get("HYDRA_FULL_ERROR", "") == "1"


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run_command(body: Callable[[], int | None], debug: bool,
                hint: str = "nothing was kept") -> NoReturn:
    """Run a command's body; turn every failure into one `error:` line and its exit code.
    `hint` says what is left and what to do after an interruption or a full disk."""
    signal.signal(signal.SIGTERM, _terminate)
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra re-raises; this function reports
    try:
        code = body() or 0
    except SystemExit:
        raise
    except KeyboardInterrupt as err:
        name = str(err) or "SIGINT"
        _report(f"interrupted ({name}); {hint}", debug)
        sys.exit(128 + getattr(signal, name, signal.SIGINT))
    except UsageError as err:
        _report(str(err), debug)
        sys.exit(EXIT_BAD_INPUT)
    except RunFailure as err:
        _report(str(err), debug)
        sys.exit(EXIT_FAILED)
    except OSError as err:
        if is_disk_error(err):
            _report(f"cannot write {err.filename or 'the output'}: "
                    f"{err.strerror or one_line(err)}; {hint}", debug)
        else:
            _report(one_line(err), debug)
        sys.exit(EXIT_FAILED)
    except Exception as err:  # a bug: say so in one line, the traceback with --debug
        _report(f"unexpected {type(err).__name__}: {one_line(err)} (run again with --debug "
                f"for the traceback)", debug)
        sys.exit(EXIT_FAILED)
    sys.exit(code)


class _QuietHydra:
    """sys.stderr without Hydra's "Error executing job with overrides" line (the command
    reports the error itself, as one line)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if text.startswith("Error executing job with overrides:"):
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def quiet_hydra() -> Iterator[None]:
    stream = sys.stderr
    sys.stderr = _QuietHydra(stream)
    try:
        yield
    finally:
        sys.stderr = stream


def _report(message: str, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    print(f"error: {message}", file=sys.stderr, flush=True)


def split_flags(argv: list[str], own: set[str]) -> tuple[list[str], set[str]]:
    """Remove the command's own flags (e.g. --debug, --overwrite) from argv."""
    flags = {a for a in argv if a in own}
    return [a for a in argv if a not in own], flags


def check_flags(argv: list[str], own: set[str]) -> tuple[list[str], bool, bool]:
    """(overrides, info_only, multirun); UsageError for flags that are not accepted."""
    overrides, info, multirun = [], False, False
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg in ("-m", "--multirun"):
            multirun = True
        elif arg in ("-r", "--run"):
            continue
        elif arg in INFO_FLAGS or arg.split("=")[0] in INFO_FLAGS:
            info = True
            skip = arg in VALUE_FLAGS
        elif arg in UNSUPPORTED_FLAGS or arg.split("=")[0] in UNSUPPORTED_FLAGS:
            raise UsageError(f"{arg}: another config directory or name is not supported; use "
                             f"overrides (key=value) of the packaged configs")
        elif arg.startswith("-"):
            accepted = ", ".join(sorted(own | {"--help", "--cfg job", "--info", "-m"}))
            raise UsageError(f"{arg}: unknown option; accepted: {accepted}, and overrides "
                             f"key=value")
        else:
            overrides.append(arg)
    return overrides, info, multirun


# --------------------------------------------------------------------------- directories


def check_output_dir(text: Any, key: str) -> Path:
    """A directory the command may create or write into; UsageError naming `key` if not."""
    value = "" if text is None else str(text)
    if not value.strip():
        raise UsageError(f"{key}: an empty directory is not accepted; give a directory path")
    if "\x00" in value:
        raise UsageError(f"{key}: {value!r} is not a valid path")
    path = Path(value).expanduser()
    try:
        if path.exists() and not path.is_dir():
            raise UsageError(f"{key}: {path} is a file, not a directory; give a directory path")
        ancestor = path
        while not ancestor.exists():
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise UsageError(f"{key}: {path} cannot be created: {ancestor} is a file")
        probe = tempfile.mkdtemp(dir=ancestor, prefix=".tased-probe-")
        os.rmdir(probe)
    except UsageError:
        raise
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise UsageError(f"{key}: {path} cannot be written ({reason}); choose a writable "
                         f"directory") from None
    return path


def quote(value: str) -> str:
    """A value as a quoted Hydra override string."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


# --------------------------------------------------------------------------- composition


@contextmanager
def hydra_context() -> Iterator[None]:
    """The packaged configs, initialised for composing (cleared afterwards)."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_schema()
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
            yield
    finally:
        if GlobalHydra.instance().is_initialized():
            GlobalHydra.instance().clear()


def _parser():
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    loader = GlobalHydra.instance().config_loader() \
        if GlobalHydra.instance().is_initialized() else None
    return OverridesParser.create(config_loader=loader)


def parse_overrides(overrides: list[str]) -> list:
    """Hydra's parsed overrides; UsageError for syntax errors and deletions (`~key`)."""
    parser, parsed = _parser(), []
    for text in overrides:
        try:
            parsed += parser.parse_overrides([text])
        except Exception as err:
            reason = one_line(err).split("; See https://")[0]
            raise UsageError(f"{text}: not a valid override ({reason}); accepted: key=value, "
                             f"+key=value, group=option, a,b,c sweeps (see "
                             f"https://hydra.cc/docs/advanced/override_grammar/basic)") from None
    for o in parsed:
        if o.is_delete() and not o.is_hydra_override():
            key = o.key_or_group
            raise UsageError(f"{key}: deleting a setting (~{key}) is not accepted: every "
                             f"setting is required; give it a value instead ({key}=...)")
    return parsed


def is_group(override: Any) -> bool:
    """An override that selects a config file of a group (town=..., scenario=...)."""
    key = override.key_or_group
    return override.package is not None or override.is_hydra_override() and "/" in key \
        or (CONFIG_DIR / key).is_dir()


def compose(config_name: str, overrides: list[str], hydra_node: bool = False):
    """Compose the packaged config with these overrides; UsageError naming the problem."""
    from hydra import compose as hydra_compose

    try:
        return hydra_compose(config_name=config_name, overrides=overrides,
                             return_hydra_config=hydra_node)
    except Exception as err:
        raise UsageError(one_line(err)) from None


def expand_jobs(parsed: list) -> list[list[str]]:
    """The jobs' override lists, exactly as Hydra's basic sweeper builds them."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    task = [o for o in parsed if not o.is_hydra_override()]
    try:
        batches = BasicSweeper.split_arguments(task, None)
    except Exception as err:
        raise UsageError(one_line(err)) from None
    return [list(job) for batch in batches for job in batch]


def job_configs(config_name: str, jobs: list[list[str]]) -> Iterator[tuple[list[str], Any]]:
    """(job overrides, composed config) for every job, as Hydra would compose them.

    Composing is slow (about 0.2 s), so each combination of config-group choices is composed
    once and the value overrides are applied to a copy with Hydra's own function.
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    cache: dict[tuple, Any] = {}
    parser = _parser()
    for job in jobs:
        try:
            parsed = parser.parse_overrides(job)
        except Exception as err:
            raise UsageError(one_line(err)) from None
        groups = tuple(o.input_line for o in parsed if is_group(o))
        values = [o for o in parsed if not is_group(o) and not o.is_hydra_override()]
        if groups not in cache:
            cache[groups] = compose(config_name, list(groups))
        cfg = copy.deepcopy(cache[groups])
        try:
            ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        except Exception as err:
            raise UsageError(one_line(err)) from None
        yield job, cfg


def resolved(cfg: Any, key: str) -> Any:
    """A value of a composed config, interpolations resolved; UsageError naming the key."""
    from omegaconf import OmegaConf

    try:
        return OmegaConf.select(cfg, key, throw_on_missing=True)
    except Exception as err:
        raise UsageError(f"{key}: {one_line(err)}") from None


def process_alive(pid: int) -> bool:
    """Whether another process with this id is running (a zombie has exited too)."""
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return True
