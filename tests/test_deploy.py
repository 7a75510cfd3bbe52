"""deploy/: the systemd unit verifies, the container and compose files say what the README
promises (non-root, the HTTP port, a health check, PostgreSQL with a named volume), and the
reverse proxy passes exactly the platforms' endpoints."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    beholde = Path(sys.executable).with_name("beholde")
    assert beholde.exists()
    text = (DEPLOY / "beholde.service").read_text()
    assert "/opt/beholde/.venv/bin/beholde serve" in text
    unit = tmp_path / "beholde.service"
    unit.write_text(text.replace("/opt/beholde/.venv/bin/beholde", str(beholde)))
    result = verify(unit)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    # The check is real: a broken copy of the same unit is refused.
    broken = tmp_path / "broken.service"
    broken.write_text(unit.read_text().replace(str(beholde), "beholde"))
    assert verify(broken).returncode != 0


def test_the_container_runs_as_a_user_on_the_http_port_with_a_health_check() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    assert "FROM docker.io/library/python:3.12-slim" in text
    assert "\nUSER beholde\n" in text and "EXPOSE 8080" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert text.rstrip().endswith('CMD ["beholde", "serve"]')


def test_compose_runs_postgresql_on_a_named_volume_and_waits_for_it() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    db, app = compose["services"]["db"], compose["services"]["beholde"]
    assert db["image"].startswith("docker.io/library/postgres:")
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert {"pgdata", "beholde-data"} <= set(compose["volumes"])
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["environment"]["BEHOLDE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert all(port.startswith("127.0.0.1:") for port in app["ports"])


def test_the_reverse_proxy_passes_only_the_platform_endpoints() -> None:
    text = (DEPLOY / "Caddyfile").read_text()
    for path in ("/telegram/*", "/slack/events", "/api/messages"):
        assert f"handle {path} {{" in text
    assert "respond 404" in text  # everything else, /metrics and /healthz included
    assert "handle /metrics" not in text and "handle /healthz" not in text
