"""Exercise 4 page: save a trained Q-network, download it, upload a file and load it back safely."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from playground.core.config import PRESETS
from playground.core.envs import ACTION_NAMES
from playground.tasks import model_files, speed
from playground.tasks.rollout import gif_bytes, greedy_rollout
from playground.tasks.save_load_tasks import LoadReport
from playground.tasks.snapshot import NetworkSnapshot, TrainedNetwork
from playground.ui.code_store import session_sources
from playground.ui.exercise_page import exercise_page
from playground.ui.router import ensure_router
from playground.ui.session import LOADED_KEY, SAVED_KEY, SOURCE_KEY, UPLOAD_SEEN_KEY
from playground.ui.trained_networks import trained_networks
from playground.ui.training_jobs import train_small_network
from playground.ui.widgets import impl_picker, keep_widgets
from solutions.train_dqn import evaluate

ensure_router()
keep_widgets(("save_load_save_impl", "save_load_load_impl", "save_load_episodes"))

TASK = """
A trained agent is only as useful as the file it lives in. Write two functions in the editor below (`save_load.py`):

* `save_model(q_network, path)` writes the network's **sizes** (`state_dim`, `action_dim`, `hidden_dims`) and its
  **weights** (`q_network.state_dict()`) to one file with `torch.save`;
* `load_model(path)` reads it with `torch.load(path, weights_only=True)`, builds a `CustomQNetwork` of the saved
  sizes, copies the weights in with `load_state_dict`, and returns it in eval mode. Every bad file (not a checkpoint,
  sizes missing, sizes that do not fit the weights, a pickle that would run code) raises `ValueError` with a
  message that says what is wrong.
"""

LESSON_WAY = """
**The lesson's way.** The lesson saves only the weights and rebuilds the network by hand before loading them:

```python
torch.save(q_network.state_dict(), "dqn_cartpole.pth")          # weights only

model = CustomQNetwork(state_dim=4, action_dim=2, hidden_dims=[128, 128])  # sizes typed again, from memory
model.load_state_dict(torch.load("dqn_cartpole.pth", weights_only=True))
model.eval()
```

A `state_dict` is a dictionary from parameter names (`net.0.weight`, `net.0.bias`, ...) to tensors: the numbers
$\\theta$, not the function they parametrise. `load_state_dict` copies them into a network that *already has* the
right shapes, so whoever loads the file must know the sizes it was trained with. Get `hidden_dims` wrong and
`load_state_dict` fails with a size mismatch; lose the note with the sizes and the file is useless. Saving the
sizes **with** the weights makes the file self-describing: `load_model(path)` needs nothing else.

**Why `weights_only=True`.** A `.pt` file is a pickle. Unpickling rebuilds whatever objects the file names, and
rebuilding an object can call any function, so `torch.load(path, weights_only=False)` on a downloaded file can run
code on your machine. With `weights_only=True`, PyTorch only rebuilds tensors and plain containers and refuses the
rest. That is also why saving the whole module (`torch.save(model)`) is a poor format: loading it needs the unsafe
mode and the exact class in the exact module.
"""


def _architecture(snapshot: NetworkSnapshot) -> None:
    hidden = list(snapshot.hidden_dims)
    st.markdown(
        f"`CustomQNetwork({snapshot.state_dim}, {snapshot.action_dim}, {hidden})`: "
        f"{snapshot.parameter_count:,} parameters."
    )
    st.dataframe(pd.DataFrame(model_files.architecture_rows(snapshot)), hide_index=True)


def _pick_network() -> TrainedNetwork | None:
    st.subheader("1. Pick a trained network")
    networks = trained_networks()
    note = st.empty()
    if not networks:
        note.info(
            "No network trained in this session yet. Train one on the **Training** page, or train a small "
            f"LineWorld network here (about {speed.duration_text(speed.estimate('training', PRESETS['lineworld']))} "
            f"on this server, {speed.measured_note('training', PRESETS['lineworld'])})."
        )
    if st.button("Train a small LineWorld network here", key="save_load_train"):
        train_small_network()
        networks = trained_networks()
        if networks:
            note.empty()
    if not networks:
        return None
    label = st.selectbox("Network", list(networks), key="save_load_network")
    chosen = networks[str(label)]
    st.caption(f"Trained on `{chosen.env_id}`.")
    _architecture(chosen.snapshot)
    return chosen


def _save_section(network: TrainedNetwork) -> None:
    st.subheader("2. Save it and download the file")
    impl = impl_picker("Save with", key="save_load_save_impl")
    if st.button("Save the network", key="save_load_save", type="primary"):
        try:
            data = model_files.save_bytes(impl, network.snapshot, network.config, sources=session_sources())
        except ValueError as err:
            st.error(str(err))
        else:
            stem = network.env_id.split("-")[0].lower()
            st.session_state[SAVED_KEY] = {
                "label": network.label,
                "impl": impl,
                "file_name": f"dqn_{stem}_{'mine' if impl == 'exercises' else 'reference'}.pt",
                "data": data,
                "serial": time.monotonic_ns(),
            }
    saved: dict[str, Any] | None = st.session_state.get(SAVED_KEY)
    if saved is None:
        return
    data = saved["data"]
    st.success(f"`{saved['file_name']}`: {len(data):,} bytes, written by {saved['impl']}/save_load.py.")
    st.download_button(
        "Download the model file",
        data=data,
        file_name=saved["file_name"],
        mime="application/octet-stream",
        key="save_load_download",
        icon=":material/download:",
    )
    rows = model_files.describe_contents(data)
    if rows:
        with st.expander("What is inside the file"):
            st.dataframe(pd.DataFrame(rows), hide_index=True)


def _load_section() -> LoadReport | None:
    st.subheader("3. Upload a file and load it")
    impl = impl_picker("Load with", key="save_load_load_impl")
    st.caption(
        "Mine runs your `load_model` in a separate process; the reference runs here. Either way the file is read "
        "with `weights_only=True`, so a hostile file is refused before anything in it runs. "
        f"Files up to {model_files.MAX_UPLOAD_MB} MB."
    )
    upload = st.file_uploader("Model file", key="save_load_upload", max_upload_size=model_files.MAX_UPLOAD_MB)
    saved: dict[str, Any] | None = st.session_state.get(SAVED_KEY)
    if saved is not None and st.button("Load the file saved above", key="save_load_use_saved"):
        st.session_state[SOURCE_KEY] = (f"saved:{saved['serial']}", saved["file_name"], saved["data"])
    if upload is not None and st.session_state.get(UPLOAD_SEEN_KEY) != upload.file_id:
        st.session_state[UPLOAD_SEEN_KEY] = upload.file_id  # a new upload replaces whatever was loaded
        try:
            model_files.check_size(upload.size)
        except ValueError as err:
            st.session_state.pop(SOURCE_KEY, None)
            st.session_state[LOADED_KEY] = {
                "key": None,
                "report": LoadReport(upload.name, upload.size, impl, error=str(err)),
            }
        else:
            st.session_state[SOURCE_KEY] = (f"upload:{upload.file_id}", upload.name, upload.getvalue())
    source: tuple[str, str, bytes] | None = st.session_state.get(SOURCE_KEY)
    state: dict[str, Any] | None = st.session_state.get(LOADED_KEY)
    if source is not None and (state is None or state["key"] != (source[0], impl)):
        with st.spinner(f"Loading {source[1]} ..."):
            fresh = model_files.load_bytes(impl, source[2], source[1], sources=session_sources())
        state = {"key": (source[0], impl), "report": fresh, "results": {}}
        st.session_state[LOADED_KEY] = state
    if state is None:
        return None
    report: LoadReport = state["report"]
    if not report.ok:
        st.error(f"Could not load `{report.file_name}` ({report.size_bytes:,} bytes): {report.error}")
        return None
    st.success(f"Loaded `{report.file_name}` ({report.size_bytes:,} bytes) with {report.impl}/save_load.py.")
    if not report.eval_mode:
        st.warning("`load_model` returned the network in training mode: call `.eval()` before returning it.")
    assert report.snapshot is not None
    _architecture(report.snapshot)
    if report.config:
        with st.expander("The training config saved in the file"):
            st.json(report.config)
    return report


def _try_loaded(report: LoadReport, source: TrainedNetwork | None) -> None:
    assert report.snapshot is not None
    snapshot = report.snapshot
    state: dict[str, Any] = st.session_state[LOADED_KEY]
    results: dict[str, Any] = state["results"]
    st.subheader("4. What the loaded network does")
    envs = model_files.matching_envs(snapshot)
    if not envs:
        st.warning(
            f"This network maps {snapshot.state_dim} inputs to {snapshot.action_dim} actions: no environment here "
            "has those sizes, so it cannot be run."
        )
        return
    saved_env = (report.config or {}).get("env_id")
    env_id = str(st.selectbox("Environment", envs, index=envs.index(saved_env) if saved_env in envs else 0))
    left, right = st.columns(2)
    with left:
        episodes = int(st.number_input("Greedy episodes", 1, 50, 10, key="save_load_episodes"))
        if st.button("Evaluate greedily", key="save_load_evaluate"):
            results["eval"] = (env_id, evaluate(snapshot.to_module(), env_id, episodes, seed=0))
        if "eval" in results:
            eval_env, returns = results["eval"]
            st.metric(f"Mean greedy return on {eval_env}", f"{sum(returns) / len(returns):.2f}")
            st.caption("Returns: " + ", ".join(f"{value:g}" for value in returns))
    with right:
        if st.button("Play one greedy episode (GIF)", key="save_load_gif"):
            with st.spinner("Rendering ..."):
                rollout = greedy_rollout(snapshot.to_module(), env_id, seed=0)
                results["gif"] = (gif_bytes(rollout.frames), rollout.steps, rollout.total_reward)
        if "gif" in results:
            image, steps, total = results["gif"]
            st.image(image, caption=f"{steps} steps, return {total:g}")
    _compare(snapshot, env_id, source)


def _compare(snapshot: NetworkSnapshot, env_id: str, source: TrainedNetwork | None) -> None:
    st.markdown("**Compare with the network it came from**")
    candidates = {
        label: network
        for label, network in trained_networks().items()
        if (network.snapshot.state_dim, network.snapshot.action_dim) == (snapshot.state_dim, snapshot.action_dim)
    }
    if not candidates:
        st.caption("No network of the same sizes was trained in this session to compare with.")
        return
    labels = list(candidates)
    default = labels.index(source.label) if source is not None and source.label in candidates else 0
    label = str(st.selectbox("Original network", labels, index=default, key="save_load_compare"))
    original = candidates[label].snapshot
    if original.hidden_dims != snapshot.hidden_dims:
        st.info(f"Different hidden layers ({list(original.hidden_dims)} vs {list(snapshot.hidden_dims)}).")
    states = model_files.probe_states(env_id)
    names = ACTION_NAMES.get(env_id, tuple(f"action {i}" for i in range(snapshot.action_dim)))
    table, gap = model_files.compare_q_values(snapshot, original, states, names)
    if gap == 0.0:
        st.success("Identical Q-values on every probe state: the weights came back exactly.")
    else:
        st.warning(f"The Q-values differ (largest difference {gap:.3g}): this is not the same network.")
    st.dataframe(table, hide_index=True)


def demo() -> None:
    picked = _pick_network()
    if picked is not None:
        _save_section(picked)
    loaded = _load_section()
    if loaded is not None:
        _try_loaded(loaded, picked)


exercise_page(
    "save_load", TASK, demo, background=("The lesson's way, and why the sizes must travel with the weights", LESSON_WAY)
)
