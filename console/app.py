"""The LightOnOCR operations console: `streamlit run console/app.py`.

Four pages over one `Operations` (the local platform unless LIGHTONOCR_SERVICE_URL points
elsewhere); the sidebar with the service's state is drawn here so every page has it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from console._state import render_sidebar

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(
    page_title="LightOnOCR console", page_icon=":material/document_scanner:", layout="wide"
)

navigation = st.navigation(
    [
        st.Page(
            VIEWS / "workbench.py",
            title="OCR workbench",
            icon=":material/document_scanner:",
            default=True,
        ),
        st.Page(VIEWS / "service.py", title="Service", icon=":material/dns:"),
        st.Page(VIEWS / "logs.py", title="Logs", icon=":material/receipt_long:"),
        st.Page(VIEWS / "metrics.py", title="Metrics", icon=":material/monitoring:"),
    ]
)
# Drawn after the page so it shows the state the page's action (warm up, scale) left.
navigation.run()
render_sidebar()
