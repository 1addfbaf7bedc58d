"""`fanzha`: serve, run the worker, migrate, generate the demo county, manage users, import files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import typer

from fanzha.cli.assess import assess_app
from fanzha.cli.audit import app as audit_app
from fanzha.cli.backup import backup as backup_command
from fanzha.cli.backup import restore as restore_command
from fanzha.cli.case_stats import stats as case_stats_command
from fanzha.cli.detect import app as detect_app
from fanzha.cli.dispatch import app as dispatch_app
from fanzha.cli.public import blocklist_app, public_app
from fanzha.cli.report import app as report_app

_plain = {"no_args_is_help": True, "rich_markup_mode": None, "pretty_exceptions_enable": False}
app = typer.Typer(help="反诈平台 Fanzha：服务、后台任务、数据库迁移、演示数据与导入。", add_completion=False, **_plain)
db_app = typer.Typer(help="数据库迁移（Alembic）。", **_plain)
users_app = typer.Typer(help="用户账号管理。", **_plain)
areas_app = typer.Typer(help="辖区（首次部署时建顶级辖区；其余可在页面上建）。", **_plain)
addresses_app = typer.Typer(help="标准地址。", **_plain)
warnings_app = typer.Typer(help="预警指令。", **_plain)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(areas_app, name="areas")
app.add_typer(addresses_app, name="addresses")
app.add_typer(warnings_app, name="warnings")
app.add_typer(detect_app, name="detect")
app.add_typer(public_app, name="public")
app.add_typer(blocklist_app, name="blocklist")
app.add_typer(assess_app, name="assess")
app.add_typer(report_app, name="report")
app.add_typer(audit_app, name="audit")
app.add_typer(dispatch_app, name="dispatch")
app.command("backup")(backup_command)
app.command("restore")(restore_command)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="监听地址"), port: int = typer.Option(8000, help="端口"),
          workers: int = typer.Option(1, help="Web 进程数（生产环境可设为 CPU 核数）"),
          public: bool = typer.Option(False, "--public", help="改为启动公众端（识诈公众版）：独立应用，不需要平台数据库"),
          forwarded_allow_ips: str | None = typer.Option(
              None, "--forwarded-allow-ips",
              help="仅公众端：信任其 X-Forwarded-For 的反向代理地址，逗号分隔（* 为全部）；默认取环境变量 "
                   "FORWARDED_ALLOW_IPS，未设则为 127.0.0.1。平台的可信代理由 FANZHA_TRUSTED_PROXIES 设置")) -> None:
    """启动 Web 服务（页面与 /api/v1 接口）；加 --public 启动公众端。"""
    import uvicorn

    if public:
        # One process: the rate limit counts in-process (docs/public.md).
        uvicorn.run("fanzha.public.app:asgi_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips)
        return
    if forwarded_allow_ips is not None:
        typer.echo("平台的可信反向代理请用环境变量 FANZHA_TRUSTED_PROXIES 设置（docs/login.md）；"
                   "--forwarded-allow-ips 只用于公众端。", err=True)
        raise typer.Exit(2)

    from fanzha.migrate import pending

    if pending():
        typer.echo("数据库还没有迁移到当前版本：请先运行 fanzha db upgrade（fanzha run 会自动迁移）。", err=True)
        raise typer.Exit(1)

    # web.deps.client_ip alone reads the client address, from FANZHA_TRUSTED_PROXIES (login counters, audit log).
    uvicorn.run("fanzha.web.asgi:app", host=host, port=port, workers=workers, log_level="info", proxy_headers=False)


@app.command()
def worker(workers: int = typer.Option(2, help="并发任务数"),
           verbose: bool = typer.Option(False, "--verbose", help="记录每次定时任务归哪个进程执行（多个后台进程排查用）")) -> None:
    """启动后台任务进程（文件导入、定时任务）。SIGTERM/Ctrl+C：不再接新任务，等正在运行的任务完成后退出。"""
    from fanzha.worker.consumer import run_worker

    raise typer.Exit(run_worker(workers, verbose))


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="目标版本")) -> None:
    """迁移数据库到最新（或指定）版本。"""
    from fanzha.migrate import upgrade

    upgrade(revision)
    typer.echo("数据库已迁移到 " + revision)


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="目标版本，如 -1 或 base")) -> None:
    """回退数据库版本。"""
    from fanzha.migrate import downgrade

    downgrade(revision)
    typer.echo("数据库已回退到 " + revision)


@db_app.command("current")
def db_current() -> None:
    """显示数据库当前版本。"""
    from alembic import command

    from fanzha.migrate import alembic_config

    command.current(alembic_config())


@db_app.command("partitions")
def db_partitions(ensure: bool = typer.Option(False, "--ensure", help="补建本月及其后两个月的分区，并把默认分区中的行移入各自月份"),
                  ahead: int = typer.Option(2, "--ahead", min=0, max=24, help="提前建好的月份数（与 --ensure 同用）"),
                  since: str = typer.Option("", "--from", help="从该月起补建每个月的分区，如 2021-01（导入大批历史数据之前）")) -> None:
    """PostgreSQL 按月分区：列出预警、劝阻记录、回访、案件各月分区（及默认分区）的行数和大小。"""
    from fanzha.common.errors import DomainError
    from fanzha.config import get_settings
    from fanzha.db import make_engine
    from fanzha.migrate import owner_url
    from fanzha.ops import partitions

    engine = make_engine(owner_url())
    try:
        with engine.begin() as conn:
            if not partitions.partitioned(conn):
                typer.echo("数据库未按月分区（SQLite，或 PostgreSQL 尚未迁移到 0034）")
                return
            if ensure or since:
                made = partitions.ensure(conn, get_settings().timezone, ahead,
                                         partitions.parse_month(since) if since else None)
                typer.echo(f"新建分区 {len(made)} 个" + (f"：{'、'.join(made)}" if made else ""))
            for p in partitions.listing(conn):
                month = f"{p.month:%Y-%m}" if p.month else "默认"
                rows = "未统计" if p.rows < 0 else f"约 {p.rows:,} 行"
                typer.echo(f"{p.table:<11} {month:<7} {p.name:<24} {rows:<16} {p.bytes / 1048576:8.1f} MB")
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()


@db_app.command("drop-month")
def db_drop_month(month: str = typer.Argument(..., help="月份，如 2021-01"),
                  tables: str = typer.Option(",".join(("warnings", "contacts", "follow_ups", "cases")), "--tables",
                                             help="逗号分隔的表名"),
                  yes: bool = typer.Option(False, "--yes", help="确认删除（不可恢复，请先 fanzha backup）")) -> None:
    """删除某个月的分区（归档期满的数据）：以表的所有者连接，分离并删除该月分区。预警编号、案件编号仍保留占用。"""
    from fanzha.common.errors import DomainError
    from fanzha.db import make_engine
    from fanzha.migrate import owner_url
    from fanzha.ops import partitions

    try:
        when = partitions.parse_month(month)
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from exc
    if not yes:
        typer.echo(f"将永久删除 {when:%Y-%m} 的分区（{tables}）。请先 fanzha backup，再加 --yes 执行。", err=True)
        raise typer.Exit(2)
    engine = make_engine(owner_url())
    try:
        with engine.begin() as conn:
            dropped = partitions.drop_month(conn, when, tuple(t.strip() for t in tables.split(",") if t.strip()))
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    typer.echo(f"已删除分区 {len(dropped)} 个" + (f"：{'、'.join(dropped)}" if dropped else "（该月没有分区）"))


@app.command()
def demo(seed: int = typer.Option(2026, help="随机种子：同一种子生成同样的数据"),
         people: int = typer.Option(3000, help="人员数量"),
         if_empty: bool = typer.Option(False, "--if-empty", help="数据库已有数据时不做任何事"),
         password: str = typer.Option("Fanzha@2026", help="演示账号的密码")) -> None:
    """生成演示县（江州市）：两条辖区链、成员单位、用户、标准地址和人员。"""
    from fanzha.db import session_scope
    from fanzha.demo.generator import generate, is_empty
    from fanzha.org.roles import ROLE_LABELS

    with session_scope() as session:
        if not is_empty(session):
            if if_empty:
                typer.echo("数据库已有数据，跳过演示数据生成。")
                return
            typer.echo("数据库已有数据：请在空数据库上生成演示数据。", err=True)
            raise typer.Exit(1)
        typer.echo(f"==> 生成演示县（江州市，{people} 人），约需半分钟：")
        started = time.monotonic()
        result = generate(session, seed=seed, people=people, password=password,
                          progress=lambda step: typer.echo(f"    {time.monotonic() - started:5.1f} 秒  {step}"))
        typer.echo(f"    {time.monotonic() - started:5.1f} 秒  写入数据库")
    typer.echo(f"演示数据已生成（{time.monotonic() - started:.0f} 秒）：" + json.dumps(result.counts, ensure_ascii=False))
    typer.echo(f"演示账号（密码均为 {password}）：")
    for login in result.logins:
        typer.echo(f"  {login.username:<16} {ROLE_LABELS[login.role]:<12} {login.area}")


@app.command()
def run(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000)) -> None:
    """一条命令跑起来：迁移、空库时生成演示数据、启动后台任务和 Web 服务。"""
    from fanzha.db import session_scope
    from fanzha.demo.generator import DEMO_PASSWORD, is_empty
    from fanzha.migrate import upgrade

    typer.echo("==> 迁移数据库到最新版本")
    upgrade()
    with session_scope() as session:
        empty = is_empty(session)
    if empty:
        demo(seed=2026, people=3000, if_empty=True, password=DEMO_PASSWORD)
    else:
        typer.echo(f"使用已有数据库。演示账号：admin、yanpan、lianxiban、ps01_suozhang、ps01_quanzu …（密码 {DEMO_PASSWORD}）")
    from sqlalchemy import select

    from fanzha.org.models import Area

    with session_scope() as session:
        is_demo = session.scalar(select(Area.id).where(Area.code == "JZGA")) is not None
    env = os.environ.copy()
    if is_demo:
        env.setdefault("FANZHA_DEMO_LIVE", "1")
    # The worker runs in a session of its own, so Ctrl+C in the terminal reaches this process only; it then stops
    # the worker itself (SIGTERM: finish the running tasks, take no new ones) and waits for it.
    from fanzha.worker.consumer import PARENT_ENV

    env[PARENT_ENV] = str(os.getpid())  # the worker stops itself if this process is killed outright
    worker_proc = subprocess.Popen([sys.executable, "-m", "fanzha.cli.main", "worker"], env=env,
                                   start_new_session=True)
    typer.echo(f"后台任务已启动（进程 {worker_proc.pid}）。打开 http://{host}:{port}/ 登录。按 Ctrl+C 停止。")
    status = _serve_until_signal(lambda: serve(host=host, port=port, workers=1, public=False,
                                               forwarded_allow_ips=None))
    typer.echo("正在停止后台任务（等待正在运行的任务完成）…")
    worker_proc.terminate()
    try:
        worker_proc.wait(timeout=WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        typer.echo(f"后台任务 {WORKER_STOP_SECONDS} 秒内未停止，强制结束。", err=True)
        worker_proc.kill()
        worker_proc.wait()
    typer.echo("已停止。")
    raise typer.Exit(status)


WORKER_STOP_SECONDS = 60


def _serve_until_signal(serve_forever) -> int:
    """Serves until SIGINT or SIGTERM and returns the exit status to leave with (130, 143; 0 if the server stopped
    by itself). uvicorn handles both signals for its graceful shutdown and then raises the signal again with the
    handler it found; the handlers set here turn that into a return, so the caller can stop the worker (Python's
    default for SIGTERM would end the process on the spot and leave the worker running)."""
    import signal

    received: list[int] = []

    def note(signum, _frame):
        received.append(signum)
        raise _Stop

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        serve_forever()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 + received[0] if received else 0


class _Stop(Exception):
    """Raised by the signal handler of `fanzha run` to leave the server loop."""


@users_app.command("create")
def users_create(username: str, role: str = typer.Option(..., help="角色代码，如 centre_admin"),
                 area_code: str = typer.Option(..., help="所在辖区编码"),
                 display_name: str = typer.Option(..., help="姓名"),
                 password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
                 unit_code: str = typer.Option("", help="成员单位编码（联络员）")) -> None:
    """新建用户（首次部署时建管理员）。"""
    from sqlalchemy import select

    from fanzha.auth import users
    from fanzha.common.errors import DomainError
    from fanzha.db import session_scope
    from fanzha.org.models import Area, Unit
    from fanzha.org.schemas import UserIn
    from fanzha.org.scope import Scope

    with session_scope() as session:
        area = session.scalar(select(Area).where(Area.code == area_code))
        if area is None:
            typer.echo(f"辖区编码 {area_code} 不存在", err=True)
            raise typer.Exit(2)
        unit = session.scalar(select(Unit).where(Unit.code == unit_code)) if unit_code else None
        try:
            user = users.create_user(session, Scope.system(session), UserIn(
                username=username, display_name=display_name, password=password, role=role, area_id=area.id,
                unit_id=unit.id if unit else None))
        except DomainError as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"已创建用户 {user.username}")


@areas_app.command("create")
def areas_create(code: str = typer.Argument(..., help="辖区编码，如 320100"),
                 name: str = typer.Option(..., help="名称，如 江州市公安局"),
                 level: str = typer.Option(..., help="层级：bureau 市局、city 市（顶级）；branch、station、beat、county、"
                                                     "township、community"),
                 parent_code: str = typer.Option("", help="上级辖区编码（顶级不填）"),
                 police_code: str = typer.Option("", help="村/社区所属派出所或警务区的编码")) -> None:
    """新建辖区。空库里先建顶级辖区（市局、市），`fanzha users create` 才有 --area-code 可用。"""
    from sqlalchemy import select

    from fanzha.common.errors import DomainError
    from fanzha.db import session_scope
    from fanzha.org import service
    from fanzha.org.models import Area
    from fanzha.org.schemas import AreaIn
    from fanzha.org.scope import Scope

    with session_scope() as session:
        ids = {}
        for option, value in (("parent", parent_code), ("police", police_code)):
            if value:
                ids[option] = session.scalar(select(Area.id).where(Area.code == value))
                if ids[option] is None:
                    typer.echo(f"辖区编码 {value} 不存在", err=True)
                    raise typer.Exit(2)
        try:
            area = service.create_area(session, Scope.system(session), AreaIn(
                name=name, code=code, level=level, parent_id=ids.get("parent"), police_area_id=ids.get("police")))
        except DomainError as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(2) from exc
        except ValueError as exc:  # pydantic: an unknown level, an empty name
            typer.echo(f"参数不对：{exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"已创建辖区 {area.code} {area.name}")


@users_app.command("unlock")
def users_unlock(username: str) -> None:
    """解除账号的登录限制（连续输错密码后的等待）。"""
    from sqlalchemy import select

    from fanzha.audit import service as audit
    from fanzha.auth import backoff
    from fanzha.db import session_scope
    from fanzha.org.models import User
    from fanzha.org.scope import Scope

    with session_scope() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            typer.echo(f"用户 {username} 不存在", err=True)
            raise typer.Exit(2)
        backoff.unlock(session, user.username)
        audit.record(session, Scope.system(session), "update", "user", user.id, detail={"changed": ["unlock"]})
    typer.echo(f"已解除 {username} 的登录限制")


def _import_file(kind: str, file: Path) -> None:
    """Stores a copy of the file as a batch of the system, runs it here and prints the summary as one JSON line.

    An unreadable file (FileProblem) fails the batch: its Chinese message goes to stderr and the exit code is 1.
    """
    import shutil
    import tempfile

    import fanzha.importers  # noqa: F401  (registers every import kind)
    from fanzha.db import session_scope
    from fanzha.imports import service as imports
    from fanzha.imports.models import ImportBatch
    from fanzha.org.scope import Scope
    from fanzha.worker.tasks import _batch_scope

    tmp = Path(tempfile.mkdtemp()) / file.name
    shutil.copy(file, tmp)
    with session_scope() as session:
        batch = imports.create_batch(session, Scope.system(session), kind, file.name, imports.store_upload(file.name, tmp))
        batch_id = batch.id
    summary = imports.run_batch(batch_id, _batch_scope)
    if not summary:
        with session_scope() as session:
            typer.echo(session.get(ImportBatch, batch_id).message, err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(summary, ensure_ascii=False))


@addresses_app.command("import")
def addresses_import(file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".xlsx 或 .csv 文件")) -> None:
    """导入标准地址，输出一行 JSON 汇总；错误行写入批次，可在页面下载。"""
    _import_file("address", file)


@warnings_app.command("import")
def warnings_import(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                help="省级平台导出的 .xlsx 或 .csv 文件（UTF-8 或 GBK）")) -> None:
    """导入预警指令，输出一行 JSON 汇总；错误行写入批次，可在页面下载。

    每行经过校验、按预警编号去重、匹配人员和地址、研判分级，再分流到派出所和劝阻员。

    汇总：read 读取、created 新增、updated 按上级更新、duplicates 重复、rejected 错误。
    """
    _import_file("warning", file)


@warnings_app.command("metrics")
def warnings_metrics(area: str = typer.Option("", "--area", help="辖区编码（任一条链的任一级）；不填为全部辖区"),
                     date_from: str = typer.Option(..., "--from", help="开始日期，如 2026-03-01（含）"),
                     date_to: str = typer.Option(..., "--to", help="结束日期，如 2026-03-31（含）"),
                     as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
                     days: int = typer.Option(0, help="预后被骗率的天数 N；不填为设置 FANZHA_PROGNOSIS_DAYS（默认 30）")) -> None:
    """劝阻指标：签收率、及时签收率、见面劝阻率、劝阻成功率、超期反馈率、预后被骗率、平均响应时长、避免损失。

    与“指标”页面同一口径（docs/metrics.md），每项给出分子和分母。
    """
    from sqlalchemy import select

    from fanzha.common.errors import DomainError
    from fanzha.db import session_scope
    from fanzha.org.models import Area
    from fanzha.org.scope import Scope
    from fanzha.warnings import metrics

    try:
        since, until = metrics.period(date_from, date_to)
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from exc
    with session_scope() as session:
        node = session.scalar(select(Area).where(Area.code == area)) if area else None
        if area and node is None:
            typer.echo(f"辖区编码 {area} 不存在", err=True)
            raise typer.Exit(2)
        report = metrics.report(session, Scope.system(session), since=since, until=until, area=node,
                                prognosis_days=days or None)
        data = report.as_dict()
        label = node.label if node else "全部辖区"
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    typer.echo(f"{label} {date_from} 至 {date_to}：预警 {data['warnings']} 条")
    for key in [r.key for r in metrics.RATES] + ["prognosis_rate"]:
        item = data[key]
        rate = f"{item['rate'] * 100:.1f}%" if item["rate"] is not None else "—"
        typer.echo(f"  {item['label']:<6} {rate:>7}  ({item['numerator']}/{item['denominator']})")
    typer.echo(f"  平均响应时长 {data['mean_response_minutes']} 分钟（{metrics.RESPONSE_TEXT['dispatch']}），"
               f"{data['mean_response_warned_minutes']} 分钟（{metrics.RESPONSE_TEXT['warned']}）")
    typer.echo(f"  避免损失 {data['loss_avoided']} 元"
               f"（其中 {data['loss_avoided_estimated']} 元{metrics.ESTIMATED_TEXT}）")


cases_app = typer.Typer(help="案件（立案）。", **_plain)
app.add_typer(cases_app, name="cases")
cases_app.command("stats")(case_stats_command)


@cases_app.command("import")
def cases_import(file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".xlsx 或 .csv 文件")) -> None:
    """导入案件，输出一行 JSON 汇总；与预警同样校验，案件编号重复不重复登记。"""
    _import_file("case", file)


@cases_app.command("suggest-type")
def cases_suggest_type(
        input: str = typer.Argument(..., help="输入文件（CSV：UTF-8 或 GBK；或 JSONL）；- 为标准输入"),
        output: str = typer.Option(..., "-o", "--output", help="输出文件（.csv 或 .jsonl）；- 为标准输出"),
        text_col: str = typer.Option("text", "--text-col", help="案情（简要案情）所在的列"),
        with_confidence: bool = typer.Option(False, "--with-confidence",
                                             help="再加两列：fraud_type_confidence（0–1）和 fraud_type_cues（依据）"),
        fmt: str = typer.Option("", "--format", help="输入格式 csv 或 jsonl（默认按扩展名，标准输入默认 csv）")) -> None:
    """按案情建议诈骗类型：逐行写出原有各列，加上 fraud_type（十二类代码，无依据时为空）；读不出、案情为空或没有文字的行不作建议，在 error 列说明原因。"""
    from fanzha.cases.suggest.scorefile import suggest_file
    from fanzha.cli.detect import run_file_job
    from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS

    s = run_file_job(lambda: suggest_file(input, output, text_col=text_col, with_confidence=with_confidence,
                                          fmt=fmt or None), input)
    parts = "，".join(f"{FRAUD_TYPE_LABELS[k]} {n}" for k, n in s.types.most_common())
    msg = f"已处理 {s.rows} 行：{parts or '无建议类型'}"
    if s.unsuggested:
        msg += f"；无法判断类型 {s.unsuggested} 行（fraud_type 为空）"
    if s.unreadable:
        msg += f"；未处理 {s.unreadable} 行（读不出、案情为空或没有文字，原样写出，原因见 error 列）"
    typer.echo(msg, err=True)


@cases_app.command("train-suggest")
def cases_train_suggest(data: Path = typer.Option(None, "--data", help="语料目录（默认 ../shared/data）"),
                        out: Path = typer.Option(None, "--out", help="模型输出目录（默认覆盖随包发布的模型）"),
                        hand_set: Path = typer.Option(None, "--hand-set",
                                                      help="手写评估案情（默认 tests/fixtures/case_narratives.tsv）")) -> None:
    """重新训练案情类型模型（模板案情 + 公开语料改写为案情；同样的数据得到同样的模型），并报告留出评估。"""
    from fanzha.cases.suggest.train import train

    try:
        meta = train(root=data, out=out, hand_set=hand_set, log=lambda m: typer.echo(m, err=True))
    except FileNotFoundError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"模型版本 {meta['version']}")


if __name__ == "__main__":
    app()
