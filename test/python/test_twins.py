"""The Python package writes what the TypeScript library writes, byte for byte, and fails as it fails.

The TypeScript side is test/support/twins.ts, run once per session with the repository's ts-node.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cdk8s import App

from cases import CASES, ERRORS

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def typescript(tmp_path_factory) -> Path:
    """The folder that twins.ts writes the same jobs to: <case>/ for each case, <error case>.txt for each error."""
    out = tmp_path_factory.mktemp("typescript")
    subprocess.run(
        [REPO / "node_modules/.bin/ts-node", "--transpile-only", "-P", "test/tsconfig.json", "test/support/twins.ts", out],
        cwd=REPO,
        check=True,
    )
    return out


def written(folder: Path) -> dict:
    # Decoded, so that a difference shows as a text diff; UTF-8 text is equal exactly when its bytes are.
    return {path.name: path.read_bytes().decode() for path in sorted(folder.iterdir())}


def readme_block(heading: str, lang: str) -> str:
    """The first fenced `lang` block of the README section `heading`, as test/support/readme.ts reads it."""
    in_section, block, fence = False, None, False
    for line in (REPO / "README.md").read_text().split("\n"):
        if line.startswith("```"):
            if in_section and block is not None:
                return "\n".join(block) + "\n"
            if in_section and line == "```" + lang and not fence:
                block = []
            fence = not fence
        elif block is not None:
            block.append(line)
        elif not fence and re.match(r"#+ ", line):
            # A `#` line inside a code block (a shell or Python comment) is no heading.
            if in_section:
                break
            in_section = re.sub(r"^#+ ", "", line) == heading
    raise AssertionError(f'README.md has no {lang} block in a section "{heading}"')


def test_every_case_has_its_typescript_twin(typescript):
    assert sorted(path.name for path in typescript.iterdir() if path.is_dir()) == sorted([*CASES, "readme"])
    assert sorted(path.stem for path in typescript.glob("*.txt")) == sorted(ERRORS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_flyte_case_synthesizes_as_in_typescript(case, typescript, tmp_path):
    app = App(outdir=str(tmp_path))
    CASES[case](app)
    app.synth()
    assert written(tmp_path) == written(typescript / case)


def test_the_readme_example_synthesizes_as_in_typescript(typescript, tmp_path):
    # Run as a user runs it: a script of its own, which makes its App and writes where CDK8S_OUTDIR says.
    script = readme_block("Use it from Python", "python")
    subprocess.run([sys.executable, "-c", script], env={**os.environ, "CDK8S_OUTDIR": str(tmp_path)}, check=True)
    assert written(tmp_path) == written(typescript / "readme")


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_a_bad_input_raises_the_typescript_message(case, typescript):
    with pytest.raises(RuntimeError) as raised:
        ERRORS[case]()
    # jsii puts the JavaScript error's name before its message, as JavaScript's Error.toString does.
    assert str(raised.value) == "Error: " + (typescript / f"{case}.txt").read_text()


def test_the_wheel_installs_the_kfpytorch_command(typescript):
    # pip puts the package's command beside the interpreter; it runs the library's own command-line tool.
    kfpytorch = Path(sys.executable).parent / "kfpytorch"
    checked = subprocess.run([kfpytorch, "validate", typescript / "readme"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "2 training job(s) checked, 0 error(s), 0 warning(s)\n"
