"""Every ``st.session_state`` key a page keeps, in one place, with who writes and who reads it.

Results live under these keys for the whole browser session, so they survive
reruns and page changes. Widget keys (which Streamlit drops when a page is not
shown) start with a page's prefix and are never read by another page.
"""

from __future__ import annotations

# Shared by several pages.
CHECKS_KEY = "check_results"  # (exercise, impl) -> list[CheckResult]; every exercise page, the home page's progress
TRAINED_KEY = "trained_networks"  # label -> TrainedNetwork, newest first; written by training, read by save/load
TRAINING_CONFIG_KEY = "training_config"  # the training page's current settings; read by the comparison page

# Page 1, Q-network.
Q_NETWORK_REPORTS_KEY = "q_network_reports"  # impl -> NetworkReport | error text
# Page 2, replay buffer.
BUFFER_TRACES_KEY = "replay_buffer_traces"  # impl -> BufferTrace | error text
# Page 3, training.
TRAINING_REPORTS_KEY = "training_reports"  # label -> TrainingReport, newest run of each label
TRAINING_ERRORS_KEY = "training_errors"  # label -> error text of a run that failed
TRAINING_STOPS_KEY = "training_stops"  # label -> who stopped that run ("stopped by you", ...)
TRAINING_READY_KEY = "tr_ready"  # the settings were seeded from the URL once
TRAINING_PREFIX = "tr_"  # the training page's widget keys
# Page 4, save and load.
SAVED_KEY = "save_load_saved"  # the last file saved on this page
LOADED_KEY = "save_load_loaded"  # the last file loaded on this page, and what was done with it
SOURCE_KEY = "save_load_source"  # (id, file name, bytes) of the file to load
UPLOAD_SEEN_KEY = "save_load_upload_seen"  # file_id of the last upload taken in
# Page 5, network sizes.
SIZES_RESULTS_KEY = "ns_results"  # impl -> ExperimentData, the newest experiment of each implementation
SIZES_ERRORS_KEY = "ns_errors"  # impl -> error text of an experiment that failed
# Page 6, reference vs SB3.
COMPARISON_RESULT_KEY = "comparison_result"
COMPARISON_ERROR_KEY = "comparison_error"
