"""What would fail late, checked once before any run of a sweep starts.

Each run is a notebook in a process of its own: a dataset on an unreachable
hub, a missing API key or a misspelt model would otherwise fail in every run,
after its kernel has started and its imports have loaded (minutes of retries
for the hub). Checked here once per distinct dataset and model, in seconds:

- a dataset: it can be located (a file, a folder, a saved name, the starter
  problems, a hub id), and for a hub id the hub answers (a short probe,
  honouring HF_HUB_OFFLINE and HF_ENDPOINT: `acodium.data.sources`);
- a model: a key is set, its server answers and lists it
  (`acodium.llm.check_model`), for the runs that ask it: `model` set and,
  where the notebook has one, `llm_samples` not 0.
"""

from __future__ import annotations

import ast
from typing import Any, Iterable, Mapping

from ..data.sources import check_hub_reachable, locate
from ..llm.check import check_model
from .plan import Run, notebook_parameters


def check_runs(runs: Iterable[Run]) -> None:
    """Raise the first one-sentence UserError that some run would meet late (see the module docstring)."""
    defaults: dict[str, dict[str, Any]] = {}
    datasets: dict[str, None] = {}
    models: dict[tuple[str, str | None], None] = {}
    for run in runs:
        if run.notebook not in defaults:
            defaults[run.notebook] = {k: _literal(v) for k, v in notebook_parameters(run.notebook).items()}
        params = {**defaults[run.notebook], **run.parameters}
        if isinstance(params.get("dataset"), str) and params["dataset"]:
            datasets[params["dataset"]] = None
        if asks_model(params):
            models[(params["model"], params.get("base_url") or None)] = None
        for role in ("test_input_model", "scorer_model"):  # writes the ai set; rates programs (largest_clusters)
            if isinstance(params.get(role), str) and params[role]:
                models[(params[role], params.get("base_url") or None)] = None
    for dataset in datasets:
        check_dataset(dataset)
    for model, base_url in models:
        check_model(model, base_url)


def asks_model(params: Mapping[str, Any]) -> bool:
    """Whether a run with these parameters asks its model: one is named, and samples are asked of it."""
    return bool(params.get("model")) and params.get("llm_samples", None) != 0


def check_dataset(source: str) -> None:
    """A dataset that cannot be located, or a hub id while the hub is unreachable, as one sentence."""
    kind, where = locate(source, None)
    if kind == "hub":
        check_hub_reachable(str(where))


def _literal(text: Any) -> Any:
    """A default as papermill reads it (the source text of its value), as a value (None if not a literal)."""
    if not isinstance(text, str):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
