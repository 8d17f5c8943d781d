"""Figures and tables built from plain data (matplotlib, pandas). Never imports Streamlit."""
