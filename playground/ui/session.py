"""Every ``st.session_state`` key the app keeps, in one place, with who writes and who reads it.

Results live under these keys for the whole browser session, so they survive
reruns and page changes. Widget keys (which Streamlit drops when a page is not
shown) start with a page's prefix and are never read by another page; the few
widget keys another module reads are named here too.
"""

from __future__ import annotations

# The prefixes of widget keys, per page: 1. Q-network, 2. Replay buffer, 3. Training, 4. Save and load, 5. Network
# sizes, 6. Reference vs SB3, 7. Teacher, and the sidebar's kept-work and class controls. Outside this module, a
# key written as a string (``st.session_state["ns_seeds"]``) is a widget key with one of these prefixes, used by
# its own page; every other key is a constant below (tests/test_session_keys.py).
WIDGET_PREFIXES = ("qn_", "rb_", "tr_", "save_load_", "ns_", "cmp_", "teacher_", "pg_")

# Shared by several pages.
CHECKS_KEY = "check_results"  # (exercise, impl) -> list[CheckResult]; every exercise page, the home page's progress
CHECK_JOBS_KEY = "check_jobs"  # (exercise, impl) -> the CheckJob running now (ui/check_panel.py)
TRAINED_KEY = "trained_networks"  # label -> TrainedNetwork, newest first; written by training, read by save/load
TRAINING_CONFIG_KEY = "training_config"  # the training page's current settings; read by the comparison page
JOB_NOTES_KEY = "job_notes"  # slot -> what became of its last job, shown once (a Cancel in the queue; ui/job_panel.py)
KEPT_KEY = "kept_widget_values"  # widget key -> last value, kept while the learner is on other pages (ui/widgets.py)

# The exercise editor (ui/editor.py, ui/code_store.py, ui/source_view.py): exercise -> value unless said otherwise.
CODE_KEY = "editor_code"  # the code in the editor
VERSION_KEY = "editor_version"  # n: bumped to remount the editor with new code
EVENT_KEY = "editor_event"  # id of the last editor event handled
DISK_KEY = "editor_disk"  # fingerprint of exercises/<module>.py when last loaded or saved
UPLOAD_KEY = "editor_upload"  # file_id of the last upload applied
CHECKED_KEY = "editor_checked"  # fingerprint of the code last checked
HINTS_KEY = "hints_revealed"  # function -> hints shown
SOLUTION_KEY = "solution_unlocked"  # True once asked for and confirmed
CONFIRM_KEY = "solution_confirm"  # True while the confirmation is shown
PLAIN_KEY = "editor_plain_text"  # the fallback toggle (one for the session)

# Page 1, Q-network.
Q_NETWORK_REPORTS_KEY = "q_network_reports"  # impl -> NetworkReport | error text
# Page 2, replay buffer.
BUFFER_TRACES_KEY = "replay_buffer_traces"  # impl -> BufferTrace | error text
# Page 3, training.
TRAINING_REPORTS_KEY = "training_reports"  # label -> TrainingReport, newest run of each label
TRAINING_ERRORS_KEY = "training_errors"  # label -> error text of a run that failed
TRAINING_STOPS_KEY = "training_stops"  # label -> who stopped that run ("stopped by you", ...)
TRAINING_RESENT_KEY = "training_values_resent"  # how many runs sent the form's values again (ui/training_form.py)
TRAINING_READY_KEY = "tr_ready"  # the settings were seeded from the URL once
TRAINING_PREFIX = "tr_"  # the training page's widget keys
TRAINING_SCROLL_KEY = "tr_scroll"  # True right after Train: the live panel scrolls into view once
TRAINING_TIMING_KEY = "tr_timing"  # (started, runs) of a finished job, timed once its results are drawn
TRAINING_URL_PROBLEMS_KEY = "tr_url_problems"  # what of the address bar's link could not be used
TRAINING_URL_CONFIG_KEY = "tr_url_config"  # the settings the link gave (its problems show while they stand)
# Page 4, save and load.
SAVED_KEY = "save_load_saved"  # the last file saved on this page
LOADED_KEY = "save_load_loaded"  # the last file loaded on this page, and what was done with it
SOURCE_KEY = "save_load_source"  # (id, file name, bytes) of the file to load
UPLOAD_SEEN_KEY = "save_load_upload_seen"  # file_id of the last upload taken in
# Page 5, network sizes.
SIZES_RESULTS_KEY = "ns_results"  # impl -> ExperimentData, the newest experiment of each implementation
SIZES_ERRORS_KEY = "ns_errors"  # impl -> error text of an experiment that failed
SIZES_SCROLL_KEY = "ns_scroll"  # True right after Run: the live panel scrolls into view once
SIZES_STOPPED_KEY = "ns_stopped"  # who stopped the experiment shown ("" when it finished)
# Page 6, reference vs SB3.
COMPARISON_RESULT_KEY = "comparison_result"
COMPARISON_ERROR_KEY = "comparison_error"
COMPARISON_SCROLL_KEY = "cmp_scroll"  # True right after Train: the live panel scrolls into view once
COMPARISON_STOPPED_KEY = "cmp_stopped"  # who stopped the comparison shown ("" when it finished)
# Kept work and a class's sign-in (ui/persistence.py).
RESTORED_KEY = "persist_restored"  # True once the kept work was put back (or there was none)
WRITTEN_KEY = "persist_written"  # part -> JSON text last saved from this session
LEARNER_KEY = "class_learner"  # LearnerInfo of the signed-in learner (class mode)
TEACHER_KEY = "class_teacher_code_ok"  # True once the teacher code was entered in this session
NEW_KEY_KEY = "class_new_key"  # the personal key just given out, shown until dismissed
FORGET_KEY = "persist_forget"  # parts to remove from the browser on this run
CREDENTIAL_KEY = "class_credential"  # JSON of the name and personal key this browser keeps (None: forget it)
