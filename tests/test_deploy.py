"""The course deployment's files: the Dockerfile (hadolint), compose.yaml, the proxy, and the README's commands.

No Docker engine runs in CI, so nothing is built here; what can be checked
without one is: hadolint's rules, the services compose.yaml starts and how
they find each other, the nginx configuration (``nginx -t``, then a real nginx
in front of two stand-in replicas, to show the sessions stick), and that the
README gives the same commands as the files.
"""

from __future__ import annotations

import http.server
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
SERVICES = {"proxy", "app1", "app2", "ray-head", "ray-worker", "postgres"}


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_user_checks_its_health_and_takes_its_port_from_the_environment() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users, "a USER line"
    assert users[-1] not in ("root", "0"), "the app does not run as root"
    assert re.search(r"^HEALTHCHECK .*/_stcore/health", text, flags=re.MULTILINE | re.DOTALL)
    assert "-r requirements-cluster.txt" in text
    assert "-r requirements.txt" in (ROOT / "requirements-cluster.txt").read_text(encoding="utf-8")
    assert "+cpu" in (ROOT / "requirements.txt").read_text(encoding="utf-8"), "CPU-only torch"
    assert "EXPOSE 8501 7860" in text, "Streamlit's port and a Hugging Face Space's"
    start = ROOT / "deploy" / "start-app.sh"
    assert 'CMD ["sh", "deploy/start-app.sh"]' in text
    assert '--server.port="${PORT:-8501}"' in start.read_text(encoding="utf-8")
    subprocess.run(["sh", "-n", str(start)], check=True)


def test_compose_starts_the_proxy_two_replicas_a_ray_cluster_and_postgres() -> None:
    services = _compose()["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has a health check"
    assert services["proxy"]["ports"] == ["8080:8080"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["proxy"]["volumes"]
    head, worker = services["ray-head"], services["ray-worker"]
    assert "--head" in _command(head)
    assert "--num-cpus=0" in _command(head), "the head only schedules"
    port = re.search(r"--port=(\d+)", _command(head))
    assert port is not None
    assert f"--address=ray-head:{port.group(1)}" in _command(worker)
    assert "--num-cpus=1" in _command(worker)
    assert worker["deploy"]["replicas"] == 2
    tokens = {services[name]["environment"]["RAY_AUTH_TOKEN"] for name in ("app1", "app2", "ray-head", "ray-worker")}
    assert len(tokens) == 1, "every Ray process shares one token"
    for name in ("app1", "app2"):
        environment = services[name]["environment"]
        assert environment["PLAYGROUND_RAY_ADDRESS"] == f"ray-head:{port.group(1)}"
        assert "@postgres:5432/" in environment["PLAYGROUND_DATABASE_URL"]
        assert services[name]["healthcheck"]["test"][-1].endswith("/_stcore/health', timeout=4)")
    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]


def test_the_proxy_sends_to_exactly_the_app_replicas() -> None:
    text = NGINX_CONF.read_text(encoding="utf-8")
    upstreams = re.findall(r"^\s*server\s+([\w-]+):(\d+)", text, flags=re.MULTILINE)
    assert sorted(host for host, _ in upstreams) == ["app1", "app2"]
    assert {port for _, port in upstreams} == {"8501"}
    assert "hash $route_key consistent;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text, "Streamlit's WebSocket passes"


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_readme_gives_the_commands_of_the_files() -> None:
    section = _readme_section("Deploying for a course")
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands, "the section shows its commands"
    files = COMPOSE.read_text(encoding="utf-8") + DOCKERFILE.read_text(encoding="utf-8")
    for command in commands:
        assert command in files, f"README command not in compose.yaml or the Dockerfile: {command}"
    for command in re.findall(r"^#\s+((?:docker|printf) .+?)(?:\s{2,}#.*)?$", files, flags=re.MULTILINE):
        assert command.strip() in commands, f"a command of the files missing from the README: {command}"


# --- nginx: the configuration is valid, and sessions stick ------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Replica(http.server.ThreadingHTTPServer):
    name = ""


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, _Replica)
        body = server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[str, dict[str, _Replica]]]:
    """The project's nginx.conf in front of two stand-in replicas on this machine."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.skip("nginx is not installed (.ci/run installs it)")
    replicas: dict[str, _Replica] = {}
    text = NGINX_CONF.read_text(encoding="utf-8")
    for name in ("app1", "app2"):
        replica = _Replica(("127.0.0.1", 0), _Answer)
        replica.name = name
        replicas[name] = replica
        threading.Thread(target=replica.serve_forever, daemon=True).start()
        text = text.replace(f"server {name}:8501", f"server 127.0.0.1:{replica.server_address[1]}")
    port = _free_port()
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{port};").replace("pid /tmp/nginx.pid;", "pid nginx.pid;")
    conf = tmp_path / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    (tmp_path / "logs").mkdir()
    base = [binary, "-e", str(tmp_path / "logs" / "error.log"), "-p", str(tmp_path), "-c", str(conf)]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*base, "-g", "daemon off; user root;"])
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(f"{url}/nginx-health", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield url, replicas
    finally:
        process.terminate()
        process.wait(10)
        for replica in replicas.values():
            replica.shutdown()
            replica.server_close()


def _get(url: str, cookie: str | None = None) -> tuple[str, str | None]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode(), response.headers.get("Set-Cookie")


def test_nginx_keeps_each_browser_on_one_replica_and_moves_it_when_that_one_is_down(
    nginx: tuple[str, dict[str, _Replica]],
) -> None:
    url, replicas = nginx
    browsers: list[tuple[str, str]] = []
    for _ in range(12):
        replica, set_cookie = _get(url + "/")
        assert set_cookie is not None, "a new browser gets its route cookie"
        cookie = set_cookie.split(";")[0]
        assert cookie.startswith("playground_route=")
        browsers.append((cookie, replica))
    assert {replica for _, replica in browsers} == {"app1", "app2"}, "new browsers spread over both replicas"
    for cookie, first in browsers:
        for path in ("/", "/_stcore/health", "/media/x.png"):
            replica, set_cookie = _get(url + path, cookie)
            assert replica == first, "every request of a browser reaches its replica"
            assert set_cookie is None, "the cookie is set once"
    replicas["app1"].shutdown()
    replicas["app1"].server_close()
    for cookie, _ in browsers:
        assert _get(url + "/", cookie)[0] == "app2", "a replica that is down: its browsers go to the other"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{replicas['app1'].server_address[1]}/", timeout=2)
