"""Settings read from the environment (prefix FANZHA_). Each one's description is its documentation: the table in
docs/configuration.md is generated from them (`python -m fanzha.cli.docgen`)."""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FANZHA_", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Folder for the SQLite database, queue file and secret key.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite at DATA_DIR/fanzha.db.")
    database_owner_url: str = Field(
        "", description="PostgreSQL: the tables' owner, for migrations and maintenance; the application then connects"
                        " as `FANZHA_DATABASE_URL`'s role, which may only INSERT and SELECT the audit log "
                        "([deploy.md](deploy.md)). Empty: one role for both.")
    database_replica_url: str = Field(
        "", description="PostgreSQL only: a streaming replica (hot standby) from which statistics (案件研判, 指标), "
                        "bulletin previews and drafts (通报), the case map (发案地图), the wall screen (大屏) and the case "
                        "and warning list exports (导出 Excel) read; writes, audit entries and whatever must read its "
                        "own writes stay on `FANZHA_DATABASE_URL`. Empty: everything reads the primary. Refused (the "
                        "settings do not load) beside SQLite, which has no replicas ([deploy.md](deploy.md), \"Read "
                        "replica (只读副本)\").")
    replica_lag_note_seconds: int = Field(
        30, ge=0, description="A page read from the replica says \"统计数据来自只读副本，约滞后 N 秒\" once the replica is more than "
                              "this many seconds behind the primary; 0 = whenever it is behind at all.")
    replica_retry_seconds: int = Field(
        30, ge=0, description="After the replica could not be reached, reading work goes to the primary (logged, "
                              "counted in `fanzha_replica_fallbacks_total`) for this many seconds before the replica "
                              "is tried again.")
    queue_url: str = Field("", description="Task queue: empty = SQLite file in DATA_DIR (embedded); "
                                           "redis://host:port/db = server mode.")
    queue_immediate: bool = Field(False, description="Run tasks in-process at once (tests, one-off scripts).")
    secret_key: str = Field("", description="Signing key; empty means one is generated into DATA_DIR/secret_key.")
    static_vendor_dir: Path = Field(Path("node_modules"), description="Where set-up installed htmx and ECharts from the npm "
                                                                      "registry.")
    session_hours: int = Field(12, description="Hours a login session stays valid.")
    api_token_days: int = Field(30, description="Days an API bearer token stays valid.")
    trusted_proxies: str = Field(
        "", description="Reverse proxies whose X-Forwarded-For is believed, comma-separated addresses or CIDRs "
                        "(`10.0.0.5,10.1.0.0/16`); empty = the direct peer is the client ([login.md](login.md)). A "
                        "value that is not an address or network stops the start.")
    login_free_attempts: int = Field(5, ge=1, description="Login attempts per account, per account and address, and per"
                                                          " trusted browser before each further one must wait.")
    login_free_per_address: int = Field(20, ge=1, description="Failed logins from one client address (any accounts) before "
                                                              "each further one must wait.")
    login_delay_seconds: int = Field(2, ge=1, description="First wait after the free login attempts; it doubles with "
                                                          "each further attempt.")
    login_max_delay_seconds: int = Field(300, ge=1, description="Longest wait between two login attempts.")
    login_window_minutes: int = Field(60, ge=1, description="Login attempts are counted afresh this many minutes after "
                                                            "the first one counted.")
    login_device_days: int = Field(180, ge=1, description="Days a browser stays trusted for an account after a "
                                                          "successful login there (device cookie, "
                                                          "[login.md](login.md)).")
    lookup_limit_per_hour: int = Field(60, ge=1, description="Exact look-ups of a person by full phone or ID number one "
                                                             "user may make in an hour (each is audited, "
                                                             "[privacy.md](privacy.md)).")
    audit_seal_grace_minutes: int = Field(
        5, ge=1, le=1440, description="Audit rows are sealed into the hash chain once this many minutes old, so a "
                                      "transaction still open is not left out ([privacy.md](privacy.md)).")
    audit_seal_file: str = Field("", json_schema_extra={"doc_default": "DATA_DIR/audit-seals.jsonl"}, description="File outside the database where each seal is appended; keep it "
                                                 "where the database owner cannot rewrite it.")
    import_max_unzipped_mb: int = Field(200, ge=1, description="An XLSX whose parts expand past this many MB is refused "
                                                               "before it is unpacked ([imports.md](imports.md)).")
    import_max_rows: int = Field(2_000_000, ge=1, description="Data rows one import file may hold; the rest of a longer "
                                                              "file is refused in one error row.")
    import_max_cell_chars: int = Field(10_000, ge=100, description="Characters one imported cell may hold; a longer cell refuses"
                                                                   " its row with a reason.")
    max_json_bytes: int = Field(2 * 1024 * 1024, description="Largest JSON request body accepted.")
    max_upload_bytes: int = Field(512 * 1024 * 1024, description="Largest uploaded file accepted.")
    import_parse_processes: int = Field(
        1, ge=0, le=8, description="Extra processes that check the rows of a large warning import while the main one "
                                   "writes (0: check in the importing process itself).")
    argon2_time_cost: int = Field(3, description="argon2id time cost.")
    argon2_memory_kib: int = Field(65536, description="argon2id memory cost in KiB.")
    cookie_secure: bool = Field(False, description="Mark cookies Secure (set true behind HTTPS).")
    triage_rules: Path | None = Field(None, description="Triage rules file (TOML); empty = the packaged defaults "
                                                        "(docs/triage.md).")
    demo_live: bool = Field(False, description="Demo only: the worker adds a new warning every 10 minutes (set by "
                                               "`fanzha run` on the demo county).")
    notify_channels: str = Field("log", description="Outward notification channels, comma-separated: log, sms, "
                                                    "webhook.")
    sms_gateway_url: str = Field("", description="SMS gateway endpoint for the sms channel (POST {phone, text}).")
    webhook_url: str = Field("", description="Endpoint for the webhook channel (POST the notification as JSON).")
    escalation_rules: Path | None = Field(None, description="Escalation rules file (TOML); empty = the packaged defaults "
                                                            "(docs/dissuasion.md).")
    dispatch_rules: Path | None = Field(None, description="Dispatch policy file (TOML): starvation guard, help from "
                                                          "sibling stations, the simulator's handling times; empty = "
                                                          "the packaged defaults (docs/dispatch.md).")
    request_rules: Path | None = Field(None, description="快速查询/止付/冻结 answer deadlines and the 止付 lapse (TOML); empty ="
                                                         " the packaged defaults (docs/dissuasion.md).")
    feedback_columns: Path | None = Field(None, description="Provincial feedback file columns (TOML); empty = the "
                                                            "packaged defaults (docs/metrics.md).")
    registry_prior_strength: float = Field(100.0, ge=0, description="易受骗群体 risk: prior strength m, in people, pulling a group's "
                                                                    "victimisation rate toward the county-wide rate "
                                                                    "(docs/registry.md).")
    registry_window_days: int = Field(365, ge=7, le=3650, description="易受骗群体 risk and targeting: days of cases (by loss time) the "
                                                                      "rates count, unless a page or request names another window.")
    link_open_case_days: int = Field(90, ge=1, le=3650, description="串并案: a case counts as open for a new warning's grade when "
                                                                    "filed within these days or not yet solved (破案); a matching "
                                                                    "counterparty raises the warning (docs/links.md).")
    activity_edit_days: int = Field(7, ge=0, le=365, description="宣防: days after recording a 宣传活动 in which its recorder may "
                                                                 "correct (更正) or withdraw (撤回) it; 0 = never "
                                                                 "(docs/prevention.md).")
    assess_scheme_dir: Path | None = Field(None, description="考核: a folder of the centre's own assessment schemes (TOML) "
                                                             "beside the shipped 滨州 and 江油 ones; a file with a shipped key"
                                                             " replaces it (docs/assessment.md).")
    reports_dir: Path | None = Field(None, description="Folder with the centre's own bulletin template "
                                                       "(`bulletin.txt.j2`) and 版头 settings (`layout.toml`), used in "
                                                       "place of the packaged ones file by file; empty = the packaged"
                                                       " ones ([bulletins.md](bulletins.md)).")
    case_stats_rules: Path | None = Field(None, description="Key communities and key groups thresholds for the case "
                                                            "statistics (TOML); empty = the packaged defaults "
                                                            "(docs/case-stats.md). Changing `FANZHA_TIMEZONE` needs "
                                                            "`fanzha cases stats --rebuild` (the roll-up holds local "
                                                            "days).")
    log_format: Literal["text", "json"] = Field("text", description="`text`, or `json`: one JSON object per line (time, level, "
                                                                    "logger, message, request id; for requests the method, route,"
                                                                    " status, duration and user id) in the web and worker "
                                                                    "processes ([operations.md](operations.md)).")
    metrics_token: str = Field("", description="Bearer token `/-/metrics` (Prometheus) requires; empty = `/-/metrics`"
                                               " is off and answers 404 ([operations.md](operations.md)).")
    timezone: str = Field("Asia/Shanghai", description="Time zone in which times are shown and periods are cut.")
    prognosis_days: int = Field(30, ge=1, le=365, description="预后被骗率's window: a warned person counts as defrauded after "
                                                              "the warning when a case's loss time falls within this many "
                                                              "days after it (docs/metrics.md).")
    bundle_key: str = Field("", description="Shared secret (HMAC-SHA256) signing the bundles between the public app "
                                            "and the platform; set the same value on both (docs/public.md). Empty: "
                                            "bundles cannot be written or read.")
    public_store: Path | None = Field(None, description="Public app only: its own SQLite file (reports, blocklist "
                                                        "copy); empty = DATA_DIR/public.db.")
    public_rate_per_minute: int = Field(20, ge=1, description="Public app: requests a client IP may make per minute once "
                                                              "its burst is spent (token bucket refill).")
    public_burst: int = Field(10, ge=1, description="Public app: requests a client IP may make at once (token bucket "
                                                    "size).")
    public_max_chars: int = Field(5000, ge=100, description="Public app: longest message accepted in the check and report"
                                                            " forms.")

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _replica_needs_postgresql(self) -> Settings:
        """SQLite has no streaming replicas: a replica beside it is refused rather than quietly ignored."""
        if self.database_replica_url:
            if not self.database_url.startswith("postgresql"):
                raise ValueError("FANZHA_DATABASE_REPLICA_URL 只能与 PostgreSQL 主库（FANZHA_DATABASE_URL=postgresql://…）"
                                 "一起使用；SQLite 没有只读副本，请清空此项")
            if not self.database_replica_url.startswith("postgresql"):
                raise ValueError("FANZHA_DATABASE_REPLICA_URL 须是 PostgreSQL 只读副本的地址（postgresql://…）")
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'fanzha.db').resolve()}"

    def resolved_public_store(self) -> Path:
        if self.public_store:
            return self.public_store
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir / "public.db"

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
