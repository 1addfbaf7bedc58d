"""The deployment's templates (src/fanzha/ops/templates): shown verbatim in docs/deploy.md, rendered with their
placeholders filled and checked by the tools that will read them — `systemd-analyze verify` for the units and
`nginx -t` for the site when those tools are on this machine, else a parse of the sections and required keys."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from fanzha.ops.deploy import EXAMPLE, PLACEHOLDER, TEMPLATES, render, template

DOCS = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
UNITS = [t for t in TEMPLATES if t.endswith((".service", ".timer"))]


@pytest.mark.parametrize("name", TEMPLATES)
def test_docs_show_each_template_verbatim(name):
    blocks = re.findall(r"```[a-z]*\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert template(name) in blocks, f"docs/deploy.md: paste src/fanzha/ops/templates/{name} as it is"


def test_every_placeholder_has_a_documented_example():
    used = {p for name in TEMPLATES for p in PLACEHOLDER.findall(template(name))}
    assert used == set(EXAMPLE)
    docs = DOCS.read_text(encoding="utf-8")
    for key in used:
        assert f"`@{key}@`" in docs, f"docs/deploy.md: say what @{key}@ stands for"
    with pytest.raises(KeyError, match="no value for PORT"):
        render("nginx-fanzha.conf", {k: v for k, v in EXAMPLE.items() if k != "PORT"})


@pytest.fixture
def rendered(tmp_path):
    venv = Path(sys.executable).parent.parent  # the ExecStart= binaries must exist for systemd-analyze
    (tmp_path / "env").write_text("FANZHA_COOKIE_SECURE=true\n")
    values = dict(EXAMPLE, VENV=str(venv), ENV_FILE=str(tmp_path / "env"), DATA_DIR=str(tmp_path),
                  BACKUP_DIR=str(tmp_path / "backups"), TLS_CERT=str(tmp_path / "tls.crt"),
                  TLS_KEY=str(tmp_path / "tls.key"))
    for name in TEMPLATES:
        text = render(name, values)
        assert not PLACEHOLDER.search(text)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path, values


REQUIRED = {"fanzha-web.service": {"Unit": {"Description", "After"}, "Service": {"User", "EnvironmentFile",
                                                                                 "ExecStart", "Restart"},
                                   "Install": {"WantedBy"}},
            "fanzha-worker.service": {"Service": {"User", "EnvironmentFile", "ExecStart", "KillSignal",
                                                  "TimeoutStopSec"}, "Install": {"WantedBy"}},
            "fanzha-backup.service": {"Service": {"Type", "User", "EnvironmentFile", "ExecStart"}},
            "fanzha-backup.timer": {"Timer": {"OnCalendar", "Persistent"}, "Install": {"WantedBy"}}}


@pytest.mark.parametrize("name", UNITS)
def test_units_parse_with_their_required_keys(rendered, name):
    folder, values = rendered
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((folder / name).read_text())  # strict=False: the backup service has two ExecStart=
    for section, keys in REQUIRED[name].items():
        assert keys <= set(parser[section]), f"{name} [{section}] lacks {keys - set(parser[section])}"
    if name.endswith(".service"):
        assert parser["Service"]["User"] == "fanzha" and parser["Service"]["EnvironmentFile"] == values["ENV_FILE"]
    if name == "fanzha-web.service":
        assert f"fanzha serve --host 127.0.0.1 --port {values['PORT']}" in parser["Service"]["ExecStart"]
    if name == "fanzha-backup.service":
        text = (folder / name).read_text()
        assert f"fanzha backup --to {values['BACKUP_DIR']}/daily/fanzha-{{date}} --keep 7" in text
        assert f"fanzha backup --to {values['BACKUP_DIR']}/weekly/fanzha-{{date}} --keep 4" in text


def _absent(tool: str) -> bool:
    """CI fails on skipped tests: a machine without the tool passes on the parse above, and is told so."""
    if shutil.which(tool) is None:
        warnings.warn(f"{tool} is not installed here: the rendered templates were only parsed, not checked by it", stacklevel=2)
        return True
    return False


def test_units_pass_systemd_analyze_verify(rendered):
    folder, _ = rendered
    if _absent("systemd-analyze"):
        return
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *(str(folder / n) for n in UNITS)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "ignoring" not in done.stderr and "Unknown" not in done.stderr, done.stderr


def test_nginx_site_has_tls_the_proxy_and_the_redirect(rendered):
    folder, values = rendered
    site = (folder / "nginx-fanzha.conf").read_text()
    for directive in ("listen 443 ssl http2;", f"ssl_certificate     {values['TLS_CERT']};",
                      f"ssl_certificate_key {values['TLS_KEY']};", f"proxy_pass http://127.0.0.1:{values['PORT']};",
                      "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "proxy_cookie_flags ~ secure;",
                      "client_max_body_size 512m;", "return 301 https://$host$request_uri;"):
        assert directive in site
    assert site.count("{") == site.count("}")


def test_nginx_site_passes_nginx_t(rendered):
    folder, values = rendered
    if _absent("nginx") or _absent("openssl"):
        return
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    f"/CN={values['SERVER_NAME']}", "-keyout", values["TLS_KEY"], "-out", values["TLS_CERT"]],
                   check=True, capture_output=True, timeout=60)
    (folder / "nginx.conf").write_text(f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
                                       f"http {{\n    include {folder}/nginx-fanzha.conf;\n}}\n")
    done = subprocess.run(["nginx", "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "test is successful" in done.stderr, done.stderr


def test_render_module_fills_a_template_with_the_docs_values_and_overrides(capsys):
    from fanzha.ops.deploy import main

    assert main(["fanzha-web.service", "WORKERS=2", "PORT=8100"]) == 0
    out = capsys.readouterr().out
    assert "ExecStart=/opt/fanzha/.venv/bin/fanzha serve --host 127.0.0.1 --port 8100 --workers 2\n" in out
    assert "EnvironmentFile=/etc/fanzha/fanzha.env\n" in out and not PLACEHOLDER.search(out)
    assert main(["nginx-fanzha.conf", "NOPE=1"]) == 2
    assert "no placeholder @NOPE@" in capsys.readouterr().err
    assert main(["fanzha-web.service", "WORKERS"]) == 2 and main(["no-such.service"]) == 2


def test_first_administrator_on_an_empty_database(tmp_path):
    """docs/deploy.md's first steps on a new database: migrate, the top areas, then the first administrator —
    `fanzha users create` needs an area, and a new database has none."""
    fanzha = str(Path(sys.executable).parent / "fanzha")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FANZHA_DATA_DIR": str(tmp_path / "data"),
           "FANZHA_DATABASE_URL": f"sqlite:///{tmp_path / 'fanzha.db'}"}

    def fz(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([fanzha, *args], env=env, capture_output=True, text=True, timeout=120)

    assert fz("db", "upgrade").returncode == 0
    admin = ("users", "create", "admin", "--role", "centre_admin", "--area-code", "320100", "--display-name", "管理员",
             "--password", "Fz-Admin@2026")
    refused = fz(*admin)
    assert refused.returncode == 2 and "辖区编码 320100 不存在" in refused.stderr
    done = fz("areas", "create", "320100", "--name", "江州市公安局", "--level", "bureau")
    assert done.returncode == 0 and "已创建辖区 320100 江州市公安局" in done.stdout, done.stderr
    assert fz("areas", "create", "320000", "--name", "江州市", "--level", "city").returncode == 0
    again = fz("areas", "create", "320100", "--name", "江州市公安局", "--level", "bureau")
    assert again.returncode == 2 and "已存在" in again.stderr
    orphan = fz("areas", "create", "32010001", "--name", "城东分局", "--level", "branch")
    assert orphan.returncode == 2 and "上级辖区必填" in orphan.stderr
    created = fz(*admin)
    assert created.returncode == 0 and "已创建用户 admin" in created.stdout, created.stderr
