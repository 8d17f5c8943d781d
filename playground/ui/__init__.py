"""Streamlit: the router, the home (lesson) page, the widgets and session keys the pages share."""
