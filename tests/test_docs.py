"""The documents stay true to the code."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_odd_is_rendered_from_the_current_code(tmp_path):
    out = tmp_path / "ODD.md"
    res = subprocess.run([sys.executable, "docs/odd/render.py", str(out)], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert out.read_text() == (ROOT / "docs/ODD.md").read_text(), \
        "docs/ODD.md is stale: run python docs/odd/render.py"


def load_renderer():
    """docs/odd/render.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("odd_render", ROOT / "docs/odd/render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_output_table_is_generated_from_the_registry():
    render = load_renderer()
    readme = (ROOT / "README.md").read_text()
    assert readme.count(render.README_START) == 1 and readme.count(render.README_END) == 1
    block = readme.split(render.README_START)[1].split(render.README_END)[0]
    assert block.strip() == render.render_readme_outputs().strip(), \
        "README.md's output table is stale: run python docs/odd/render.py --readme"
    assert render.readme_with_outputs(readme) == readme


def test_readme_commands_exist():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"^make (\w+)", readme, flags=re.M):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci and "make test" in readme


def test_no_machine_paths_in_the_project():
    pattern = re.compile(r"/work/|/root/|/tmp/")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    offenders = []
    for name in tracked.stdout.split():
        path = ROOT / name
        if path.suffix in {".py", ".md", ".yaml", ".toml", ".cfg", ""} and path.is_file():
            if pattern.search(path.read_text(errors="ignore")) and name != "tests/test_docs.py":
                offenders.append(name)
    assert offenders == []
