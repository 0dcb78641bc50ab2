"""Command line: wiring only. Reading, detection and rendering live in their own modules."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path

import typer

from lossctl import __version__
from lossctl.errors import InputError
from lossctl.text import plural

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,  # plain help: rich costs 250 ms
                  pretty_exceptions_enable=False,
                  help="Diagnose misbehaving training-loss curves from the logs you already have.")


class Format(str, Enum):
    terminal = "terminal"
    json = "json"
    github = "github"
    junit = "junit"
    markdown = "markdown"
    html = "html"
    png = "png"


class CompareFormat(str, Enum):
    terminal = "terminal"
    json = "json"
    html = "html"
    png = "png"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


EXPERIMENT_HELP = "Only runs of this experiment (MLflow; elsewhere the first segment of the run name); a glob."
RUN_NAME_HELP = "Only runs whose name matches this glob (e.g. 'exp/lr_*' or 'lr_*')."
TRACKING_URI_HELP = ("Also read this MLflow tracking URI: http(s)://host:port (the server), sqlite:///mlflow.db "
                     "or a file store path. Without paths, MLFLOW_TRACKING_URI is read.")


def _fail(message: str) -> None:
    typer.echo(f"lossctl: {message}", err=True)
    raise typer.Exit(2)


def _kinds(values: list[str] | None) -> list[str]:
    from lossctl.detectors import BY_KIND

    out = [k.strip() for v in values or [] for k in v.split(",") if k.strip()]
    bad = [k for k in out if k not in BY_KIND]
    if bad:
        _fail(f"unknown kind(s): {', '.join(bad)} (see `lossctl rules`)")
    return out


def _color(stream) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


JOBS = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes for reading and analysing runs [default: the cores].")
SCHEDULER = typer.Option(None, "--scheduler", envvar="LOSSCTL_SCHEDULER", metavar="ADDRESS",
                         help="Send the per-run work to this Dask distributed scheduler (tcp://host:8786; needs lossctl[dask]).")


@app.command()
def analyze(
    paths: list[str] | None = typer.Argument(None, help="Run directories, trees of runs, log files, URLs (s3://, gs://, hf://, ...), mlflow+http://host:5000, or - for standard input."),
    format: Format = typer.Option(Format.terminal, "--format", "-f", help="Output format."),
    fail_on: FailOn | None = typer.Option(None, "--fail-on", help="Exit 1 when a finding is at or above this severity [default: error]."),
    loss: str | None = typer.Option(None, "--loss", help="Metric to treat as the training loss."),
    val_loss: str | None = typer.Option(None, "--val-loss", help="Metric to treat as the validation loss."),
    select: list[str] | None = typer.Option(None, "--select", help="Only these kinds (comma-separated)."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Skip these kinds (comma-separated)."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip CRC checks of event files (faster)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the chosen format to this file; the terminal report still goes to the screen."),
    baseline: str | None = typer.Option(None, "--baseline", help="A run to judge every run against (as `lossctl compare` does): exit 1 also when a run is worse."),
    max_regression: float = typer.Option(0.0, "--max-regression", min=0.0, metavar="PCT", help="With --baseline: how much worse than the baseline (percent) still passes."),
    summary: Path | None = typer.Option(None, "--summary", help="Also append the markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY)."),
    jobs: int | None = JOBS,
    scheduler: str | None = SCHEDULER,
    experiment: str | None = typer.Option(None, "--experiment", help=EXPERIMENT_HELP),
    run_name: str | None = typer.Option(None, "--run-name", metavar="GLOB", help=RUN_NAME_HELP),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", metavar="URI", help=TRACKING_URI_HELP),
):
    """Read training logs, detect pathologies, report them. Exit 0 ok, 1 findings, 2 unreadable."""
    from lossctl.renderers import RENDERERS
    from lossctl.report import exit_code

    config = _config(select, ignore)
    if fail_on is not None:
        config.fail_on = fail_on.value
    overrides = {"loss": loss, "val_loss": val_loss}
    base = _baseline(baseline, config, overrides, not no_verify) if baseline is not None else None
    reports, errors = _analyze(_targets(paths, tracking_uri), config, overrides, not no_verify, jobs, scheduler,
                               _chosen(experiment, run_name))
    if not reports:
        for e in errors:
            typer.echo(f"lossctl: {e}", err=True)
        raise typer.Exit(2)
    if base is not None:
        _judge_all(base, reports, max_regression)
    for e in errors:
        typer.echo(f"lossctl: {e}", err=True)
    width = min(120, max(60, _terminal_width()))
    if summary is not None:
        html_at = {"html_report": str(output)} if format is Format.html and output is not None else {}
        _write(summary, RENDERERS["markdown"](reports, errors, color=False, width=width, **html_at), append=True)
    _emit(RENDERERS, format.value, output, width, reports, errors)
    raise typer.Exit(exit_code(reports, config.fail_on))


@app.command()
def compare(
    paths: list[str] = typer.Argument(..., help="The baseline run first, then the runs to compare with it (run directories, trees of runs, URLs)."),
    format: CompareFormat = typer.Option(CompareFormat.terminal, "--format", "-f", help="Output format."),
    max_regression: float = typer.Option(0.0, "--max-regression", min=0.0, metavar="PCT", help="How much worse than the baseline (percent of its value) still counts as the same; beyond it, and beyond the curves' noise, a run is worse (exit 1)."),
    target: float | None = typer.Option(None, "--target", help="Loss to reach for 'steps to target' on the judged metric (default: the baseline's final value)."),
    loss: str | None = typer.Option(None, "--loss", help="Metric to treat as the training loss."),
    val_loss: str | None = typer.Option(None, "--val-loss", help="Metric to treat as the validation loss."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip CRC checks of event files (faster)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the chosen format to this file; the terminal report still goes to the screen."),
    jobs: int | None = JOBS,
    scheduler: str | None = SCHEDULER,
    experiment: str | None = typer.Option(None, "--experiment", help=EXPERIMENT_HELP + " Applies to every path."),
    run_name: str | None = typer.Option(None, "--run-name", metavar="GLOB", help=RUN_NAME_HELP + " Applies to every path."),
):
    """Compare runs with a baseline: final, best, steps to target, AUC, stability; better/same/worse.

    Exit 0 when no run is worse than the baseline, 1 when one is, 2 on bad input.
    """
    from lossctl.compare import compare as compare_runs
    from lossctl.renderers import COMPARE_RENDERERS

    if len(paths) < 2:
        _fail("compare needs a baseline run and at least one run to compare with it")
    config = _config(None, None)
    overrides = {"loss": loss, "val_loss": val_loss}
    from lossctl.runs import same_run

    chosen = _chosen(experiment, run_name)
    base = _baseline(paths[0], config, overrides, not no_verify, chosen)
    others = []
    for p in paths[1:]:  # every path must hold a run; a bad file beside good runs is a warning
        found, errors = _analyze([p], config, overrides, not no_verify, jobs, scheduler, chosen)
        if not found:
            _fail(errors[0])
        for e in errors:
            typer.echo(f"lossctl: {e}", err=True)
        others += [r for r in found if not same_run(r.run, base.run)]
    if not others:
        _fail("nothing to compare: the other paths hold only the baseline run")
    reports = [base] + others
    try:
        result = compare_runs(reports, max_regression=max_regression, target=target)
    except InputError as exc:
        _fail(str(exc))
    _emit(COMPARE_RENDERERS, format.value, output, min(120, max(60, _terminal_width())), result, [])
    raise typer.Exit(1 if result.worse else 0)


def _config(select, ignore):
    from lossctl.config import load_config

    try:
        config = load_config()
    except InputError as exc:
        _fail(str(exc))
    if select:
        config.select = _kinds(select)
    if ignore:
        config.ignore = config.ignore + _kinds(ignore)
    return config


def _baseline(path: str, config, overrides, verify: bool, chosen=None):
    """The baseline's report: ``path`` must hold exactly one readable run."""
    reports, errors = _analyze([path], config, overrides, verify, chosen=chosen)
    if errors and not reports:
        _fail(f"baseline {errors[0]}")
    if len(reports) != 1:
        _fail(f"baseline {path}: holds {len(reports)} runs ({', '.join(r.run.name for r in reports[:3])}"
              f"{', ...' if len(reports) > 3 else ''}); name one run directory")
    return reports[0]


def _judge_all(base, reports, max_regression: float) -> None:
    from lossctl.compare import judge
    from lossctl.runs import same_run

    failed, judged = [], 0
    for r in reports:
        if same_run(r.run, base.run):
            continue
        try:
            r.baseline = judge(base, r, max_regression=max_regression)
            judged += 1
        except InputError as exc:
            failed.append((r, exc))
    if failed and not judged:  # nothing could be judged: bad input
        _fail(str(failed[0][1]))
    for r, exc in failed:  # a tree's run of another kind (an agent beside networks): said, not fatal
        r.run.warnings.append(f"not judged against the baseline: {exc}")


def _emit(renderers, name: str, output: Path | None, width: int, *data) -> None:
    """The chosen format to stdout, or to ``output`` with the terminal report on the screen."""
    from lossctl.renderers import COMPARE_IMAGE_RENDERERS, COMPARE_RENDERERS, IMAGE_RENDERERS

    images_of = COMPARE_IMAGE_RENDERERS if renderers is COMPARE_RENDERERS else IMAGE_RENDERERS
    render = renderers.get(name)
    if name in images_of:  # binary: to files only (one, or one per run: NAME-01.png, ...)
        if output is None:
            _fail(f"--format {name} writes image files: name one with --output FILE.{name}")
        try:
            images = images_of[name](*data, color=False, width=width)
        except ImportError as exc:  # the png extra is missing: the message says what to install
            _fail(str(exc))
        for suffix, png in images:
            target = output.with_name(output.stem + suffix + (output.suffix or ".png"))
            try:
                target.write_bytes(png)
            except OSError as exc:
                _fail(f"{target}: cannot write: {exc.strerror or exc}")
            typer.echo(f"lossctl: wrote {target}", err=True)
        render = renderers["terminal"]
    elif output is not None:
        _write(output, render(*data, color=False, width=width))
        render = renderers["terminal"]
    sys.stdout.write(render(*data, color=_color(sys.stdout), width=width))


def _write(path: Path, text: str, append: bool = False) -> None:
    try:
        with open(path, "a" if append else "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        _fail(f"{path}: cannot write: {exc.strerror or exc}")


@app.command()
def export(
    path: str = typer.Argument(..., help="A run directory, a tree of runs, a log file, a URL, or - for standard input."),
    out: Path = typer.Argument(..., help="File to write."),
    to: str = typer.Option("csv", "--to", help="csv or parquet (parquet needs pyarrow)."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip CRC checks of event files."),
    experiment: str | None = typer.Option(None, "--experiment", help=EXPERIMENT_HELP),
    run_name: str | None = typer.Option(None, "--run-name", metavar="GLOB", help=RUN_NAME_HELP),
):
    """Write every point of every run as the common frame (run, metric, step, wall_time, value)."""
    from lossctl.frame import concat

    if to not in ("csv", "parquet"):
        _fail(f"--to must be csv or parquet (got {to!r})")
    runs, errors = _load([path], not no_verify, _chosen(experiment, run_name))
    for e in errors:
        typer.echo(f"lossctl: {e}", err=True)
    if not runs:
        raise typer.Exit(2)
    frame = concat([r.frame for r in runs])
    try:
        if to == "csv":
            frame.to_csv(out, index=False)
        else:
            frame.to_parquet(out, index=False)
    except ImportError:
        _fail("parquet output needs pyarrow: pip install 'lossctl[parquet]'")
    except OSError as exc:
        _fail(f"{out}: cannot write: {exc.strerror or exc}")
    typer.echo(f"wrote {len(frame):,} points of {plural(len(runs), 'run')} to {out}", err=True)


def _analyze(paths, config, overrides, verify: bool, jobs: int | None = None, scheduler: str | None = None,
             chosen=None):
    """Reports of every run under ``paths`` (read and analysed in parallel when it pays) and the
    input problems met; notes on what was found but not read go to stderr at once."""
    from lossctl.pipeline import analyze_refs, find_all
    from lossctl.progress import ReadProgress

    found = find_all(paths, chosen=chosen)
    for note in found.notes:
        typer.echo(f"lossctl: {note}", err=True)
    reports, errors, skipped = [], list(found.errors), []
    progress = ReadProgress("analysing runs")
    try:
        for out in analyze_refs(found.refs, config, overrides, verify, jobs, scheduler, progress):
            reports += out.reports
            errors += out.errors
            skipped += out.skipped
    except InputError as exc:  # the scheduler cannot be reached
        _fail(str(exc))
    finally:
        progress.close()
    if not reports and not errors:
        errors = skipped
    return reports, errors


def _targets(paths: list[str] | None, tracking_uri: str | None) -> list[str]:
    """The paths, plus ``--tracking-uri`` (or, when no path is given, ``MLFLOW_TRACKING_URI``)."""
    out = list(paths or [])
    uri = tracking_uri or (None if out else os.environ.get("MLFLOW_TRACKING_URI"))
    if uri:
        from lossctl.sources.mlflow.server import tracking_target

        try:
            out.append(tracking_target(uri))
        except InputError as exc:
            _fail(str(exc))
    if not out:
        _fail("nothing to read: give a path, or --tracking-uri (or set MLFLOW_TRACKING_URI)")
    return out


def _chosen(experiment: str | None, run_name: str | None):
    from lossctl.discovery import RunFilter

    return RunFilter(experiment, run_name) if experiment or run_name else None


def _load(paths, verify: bool, chosen=None):
    from lossctl.progress import ReadProgress
    from lossctl.runs import load_runs

    runs, errors = [], []
    progress = ReadProgress()
    try:
        for p in paths:
            try:
                res = load_runs(p, verify=verify, progress=progress, chosen=chosen)
            except InputError as exc:
                errors.append(str(exc))
                continue
            runs += res.runs
            errors += res.errors
            for note in res.notes:  # found but not read on purpose (deleted runs, ...)
                typer.echo(f"lossctl: {note}", err=True)
    finally:
        progress.close()
    return runs, errors


@app.command()
def watch(
    path: str = typer.Argument(..., help="A run directory (or a tree of runs, or one log file) still being written, or - for standard input (a console log: python train.py 2>&1 | lossctl watch -)."),
    exit_on: FailOn = typer.Option(FailOn.error, "--exit-on", help="Stop with exit 1 at the first finding at or above this severity."),
    interval: float = typer.Option(2.0, "--interval", min=0.01, help="Seconds between polls."),
    timeout: float | None = typer.Option(None, "--timeout", min=0, help="Stop with exit 0 after this many seconds without such a finding."),
    idle: float | None = typer.Option(None, "--idle", min=0, help="Stop with exit 0 when no new data arrived for this many seconds."),
    loss: str | None = typer.Option(None, "--loss", help="Metric to treat as the training loss."),
    val_loss: str | None = typer.Option(None, "--val-loss", help="Metric to treat as the validation loss."),
    select: list[str] | None = typer.Option(None, "--select", help="Only these kinds (comma-separated)."),
    ignore: list[str] | None = typer.Option(None, "--ignore", help="Skip these kinds (comma-separated)."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip CRC checks of event files."),
    tee: bool = typer.Option(False, "--tee", help="With -: pass the input through to standard output (watch's own lines go to standard error)."),
    experiment: str | None = typer.Option(None, "--experiment", help=EXPERIMENT_HELP),
    run_name: str | None = typer.Option(None, "--run-name", metavar="GLOB", help=RUN_NAME_HELP),
):
    """Follow a run while it trains: read what is appended, print each new finding as it appears.
    Exit 1 at a finding at the --exit-on level, 0 at --timeout/--idle or when standard input
    ends, 130 on Ctrl-C, 2 on bad usage."""
    from rich.console import Console

    from lossctl.watch.display import Display
    from lossctl.watch.loop import watch as watch_loop
    from lossctl.watch.session import Session

    config = _config(select, ignore)
    if tee and path != "-":
        _fail("--tee passes standard input through; it needs - as the path")
    chosen = _chosen(experiment, run_name)
    if chosen and path == "-":
        _fail(f"{chosen.describe()} chooses runs of a directory or store; standard input is one stream")
    out = sys.stderr if tee else sys.stdout  # with --tee, standard output is the log itself
    try:
        session = Session(path, config, {"loss": loss, "val_loss": val_loss}, verify=not no_verify,
                          tee=sys.stdout.buffer if tee else None, chosen=chosen)
    except InputError as exc:
        _fail(str(exc))
    tty = out.isatty()
    display = Display(Console(file=out, no_color=not _color(out)), live=tty)
    limits = "".join([f"; stop after {timeout:g} s" if timeout is not None else "",
                      f" or {idle:g} s without new data" if idle is not None else ""])
    stop_on = "never exits on findings" if exit_on is FailOn.never else f"exit 1 at the first {exit_on.value}+ finding"
    which = f" (runs matching {chosen.describe()})" if chosen else ""
    display.line(f"watching {path}{which} every {interval:g} s; {stop_on}{limits}", "dim")
    try:
        code = watch_loop(session, display, exit_on.value, interval, timeout, idle, sleep=session.wait)
    except KeyboardInterrupt:
        display.line("interrupted (exit 130)", "dim")
        code = 130
    finally:
        display.close()
    if not session.reports and session.ignored():
        for why in session.ignored():
            typer.echo(f"lossctl: {why}", err=True)
    raise typer.Exit(code)


@app.command()
def rules():
    """List the pathology kinds with their default severity."""
    from lossctl.detectors import DETECTORS

    for d in DETECTORS:
        typer.echo(f"{d.kind:20s} {d.severity:8s} {d.summary}")


@app.command()
def explain(kind: str = typer.Argument(..., help="A kind from `lossctl rules`.")):
    """Explain a kind: what it means, how it is detected (thresholds in force), what to do."""
    from lossctl.config import load_config
    from lossctl.detectors import BY_KIND

    if kind not in BY_KIND:
        _fail(f"unknown kind {kind!r} (see `lossctl rules`)")
    try:
        cfg = load_config()
    except InputError as exc:
        _fail(str(exc))
    d = BY_KIND[kind]
    sev = cfg.severities.get(kind, d.severity)
    typer.echo(f"{kind} ({sev})\n")
    typer.echo(d.explain(cfg.thresholds.get(kind)))
    t = {**d.thresholds, **cfg.thresholds.get(kind, {})}
    if t:
        typer.echo("\nThresholds in force" + (f" (from {cfg.source})" if cfg.source else "") + ":")
        for k, v in t.items():
            typer.echo(f"  {k} = {v:g}")


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


def _version(value: bool):
    if value:
        typer.echo(f"lossctl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")):
    pass


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
