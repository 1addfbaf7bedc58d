"""The deployment's templates (systemd units, the nginx site) shipped with the package and shown in docs/deploy.md:
`@NAME@` placeholders filled from a dict, refusing to leave one unfilled."""

from __future__ import annotations

import re
from importlib import resources

TEMPLATES = ("fanzha-web.service", "fanzha-worker.service", "fanzha-backup.service", "fanzha-backup.timer",
             "nginx-fanzha.conf")
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")
# What each placeholder stands for, and the value docs/deploy.md uses.
EXAMPLE = {"USER": "fanzha", "VENV": "/opt/fanzha/.venv", "ENV_FILE": "/etc/fanzha/fanzha.env",
           "DATA_DIR": "/var/lib/fanzha", "BACKUP_DIR": "/var/backups/fanzha", "PORT": "8000", "WORKERS": "4",
           "SERVER_NAME": "fanzha.jz.police", "TLS_CERT": "/etc/fanzha/tls/fanzha.crt",
           "TLS_KEY": "/etc/fanzha/tls/fanzha.key"}


def template(name: str) -> str:
    return resources.files("fanzha.ops").joinpath("templates", name).read_text(encoding="utf-8")


def render(name: str, values: dict[str, str]) -> str:
    text = template(name)
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise KeyError(f"{name}: no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
