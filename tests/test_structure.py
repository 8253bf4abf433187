"""The code's structure: one place per mechanism, no import cycles, the model without Hydra."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("simulation", "experiments")


def modules(package: str) -> dict[str, Path]:
    out = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path, known: set[str]) -> set[str]:
    """Modules of the project a file imports at run time (annotation-only imports under
    `if TYPE_CHECKING:` excluded), wherever the import statement stands."""
    tree = ast.parse(path.read_text())
    skip = {id(node) for stmt in ast.walk(tree) if isinstance(stmt, ast.If)
            and "TYPE_CHECKING" in ast.unparse(stmt.test) for node in ast.walk(stmt)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found |= {n for n in names if n in known}
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package):
    mods = modules(package)
    graph = {name: imports(path, set(mods)) - {name} for name, path in mods.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join(trail[trail.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_the_model_imports_without_hydra_or_plotting():
    code = ("import simulation.model, sys; "
            "bad = [m for m in ('hydra', 'matplotlib') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_workers_do_not_load_aggregation_or_plotting():
    code = ("import experiments.jobs, sys; "
            "bad = [m for m in ('matplotlib', 'experiments.aggregate') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_no_module_of_the_model_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "simulation").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_stages_run_by_reference_and_institutions_are_found_by_name():
    source = "\n".join(p.read_text() for package in PACKAGES + ("app",)
                       for p in (ROOT / package).rglob("*.py"))
    assert "getattr(self, stage" not in source
    assert "authorities[" not in source


def test_every_mechanism_module_is_in_the_odd():
    odd = (ROOT / "docs/ODD.md").read_text()
    for path in sorted((ROOT / "simulation").rglob("*.py")):
        if path.name != "__init__.py" and "configs" not in path.parts:
            name = str(path.relative_to(ROOT))
            assert f"`{name}`" in odd, name


def test_stage_names_read_like_the_odd_schedule():
    from simulation.model import STAGES

    odd = (ROOT / "docs/ODD.md").read_text()
    schedule = odd[odd.index("### 1.3"):odd.index("## 2 ")]
    positions = [schedule.index(f"`{name}`") for name, _ in STAGES]
    assert positions == sorted(positions)
    assert len({name for name, _ in STAGES}) == len(STAGES)
    assert all(re.fullmatch(r"[a-z_]+", name) for name, _ in STAGES)
