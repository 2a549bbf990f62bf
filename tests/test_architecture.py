"""The layer contract (pyproject.toml, `make lint`) really fails when an arrow points the wrong way.

Each case runs `lint-imports` with the project's own contract over a copy of the source tree with one
offending module added: the clean copy passes, so the failure is the added import and nothing else.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("o2c_portal", "apps", "integrations")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _tree_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "templates", "static", "*.html"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own venv's lint-imports on a temporary copy
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_clean_tree_keeps_every_contract(tmp_path):
    result = _lint_imports(_tree_copy(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        (
            "apps/orders/sandbox_peek.py",
            "from apps.sandbox.shopify import simulator\n",
            "Only o2c_portal may mount the sandbox",
        ),
        (
            "apps/sync/sandbox_peek.py",
            "import apps.sandbox.models\n",
            "Only o2c_portal may mount the sandbox",
        ),
        (
            "integrations/settings_peek.py",
            "from django.conf import settings\n",
            "integrations imports no Django at all",
        ),
        (
            "apps/inventory/orders_peek.py",
            "from apps.orders.models import Order\n",
            "Inventory knows nothing of orders",
        ),
        (
            "apps/sync/ops_peek.py",
            "from apps.ops import urls\n",
            "Layers: a lower layer never imports a higher one",
        ),
        (
            "apps/sandbox/portal_peek.py",
            "from apps.sync.models import OutboxMessage\n",
            "The sandbox imports only integrations and Django",
        ),
    ],
)
def test_a_wrong_way_import_breaks_the_contract(tmp_path, module, source, contract):
    tree = _tree_copy(tmp_path)
    (tree / module).write_text(source)

    result = _lint_imports(tree)

    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert len(broken) >= 1
    assert any(contract in line for line in broken), result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout
