"""DQN Playground: the entry point. Run with ``streamlit run streamlit_app.py``.

The router and the home (lesson) page live in :mod:`playground.ui.router`.
"""

from playground.ui.router import main

main()
