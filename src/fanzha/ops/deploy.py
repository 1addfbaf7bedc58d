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


def main(argv: list[str] | None = None) -> int:
    """`python -m fanzha.ops.deploy NAME [KEY=value …]`: print one template filled with docs/deploy.md's values,
    each KEY=value replacing one of them (`python -m fanzha.ops.deploy fanzha-web.service WORKERS=8`)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in TEMPLATES or any("=" not in a for a in args[1:]):
        print(f"usage: python -m fanzha.ops.deploy {{{','.join(TEMPLATES)}}} [KEY=value …]\n"
              f"values (KEY=value replaces one): "
              + " ".join(f"{k}={v}" for k, v in EXAMPLE.items()), file=sys.stderr)
        return 2
    values = dict(EXAMPLE)
    for arg in args[1:]:
        key, _, value = arg.partition("=")
        if key not in EXAMPLE:
            print(f"{args[0]}: no placeholder @{key}@ (known: {', '.join(EXAMPLE)})", file=sys.stderr)
            return 2
        values[key] = value
    sys.stdout.write(render(args[0], values))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
