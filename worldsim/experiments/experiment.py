"""``run_and_report``: the whole experiment — sweep, CSVs, plots and report — in one call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from worldsim.experiments.config import load_experiment_config
from worldsim.experiments.plots import plot_drift_over_time, plot_entity_heatmaps, plot_metric_vs_length
from worldsim.experiments.report import write_report
from worldsim.experiments.runner import collect_rows, execution_order, plan_runs, run_experiment, write_csv


@dataclass
class ExperimentOutputs:
    """Paths of what an experiment wrote (all under ``out``)."""

    metrics_csv: Path
    frames_csv: Path
    entities_csv: Path
    plots: list[Path]
    report: Path


def run_and_report(
    config_path: str | Path,
    out: str | Path | None = None,
    *,
    quick: bool = False,
    progress: bool = False,
    workers: int | None = None,
    address: str | None = None,
) -> ExperimentOutputs:
    """Run the sweep of ``config_path`` into ``out`` (default ``out/experiments/<name>``), resuming.

    workers / address: run it as Ray tasks (a local Ray with ``workers`` CPUs, or the cluster at
    ``address``); the CSVs and report are the same as from a run one after another.
    """
    config, base_dir = load_experiment_config(config_path, quick=quick)
    out = (
        Path(out)
        if out is not None
        else Path("out/experiments") / (config.name + ("_quick" if quick else ""))
    )
    runs = plan_runs(config, base_dir)
    results = run_experiment(config, base_dir, out, workers=workers, address=address)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=len(runs), desc=config.name, unit="run")
    order = {run.run_id: index for index, run in enumerate(execution_order(config, base_dir)[0])}
    finished = sorted(results, key=lambda pair: order[pair[0].run_id])  # Ray yields as runs finish
    clip_rows = [summary for _, summary in finished]
    frame_rows = collect_rows(out, runs, "frames")
    entity_rows = collect_rows(out, runs, "entities")
    metrics_csv, frames_csv, entities_csv = out / "metrics.csv", out / "frames.csv", out / "entities.csv"
    write_csv(metrics_csv, clip_rows)
    write_csv(frames_csv, frame_rows)
    write_csv(entities_csv, entity_rows)
    plots = [
        plot_drift_over_time(frame_rows, out / "drift_over_time.png"),
        plot_metric_vs_length(clip_rows, out / "metric_vs_length.png"),
        plot_entity_heatmaps(entity_rows, out / "entity_heatmaps.png"),
    ]
    report = write_report(out / "report.md", config, clip_rows, plots, quick=quick)
    if config.prompt_probes is not None:
        from worldsim.experiments.prompt_probes import probe_report, run_prompt_probes

        probes = config.prompt_probes
        if quick:
            probes.frames, probes.resolution = min(probes.frames, 2), list(config.resolution or [48, 48])
        scenes = [(base_dir / scene).resolve() for scene in (probes.scenes or config.scenes)]
        result = run_prompt_probes(probes, scenes, list(config.seeds), out)
        with report.open("a") as handle:
            handle.write(probe_report(result))
    return ExperimentOutputs(metrics_csv, frames_csv, entities_csv, plots, report)
