"""The LightOnOCR operations console: `streamlit run console/ui/app.py`.

Four pages over one `Operations` (the local platform unless LIGHTONOCR_SERVICE_URL points
elsewhere); the sidebar with the service's state is drawn here so every page has it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from console._host_guard import extra_hosts, refusal
from console._store import StoreError
from console.ui._disconnects import quiet_disconnects
from console.ui._outage import show_store_unreachable
from console.ui._state import current_identity, render_sidebar

VIEWS = Path(__file__).resolve().parent / "views"
quiet_disconnects()

# The favicon is an emoji (drawn by the browser as a data: URL): a `:material/...:` page icon
# makes the browser fetch an SVG from fonts.gstatic.com, and the console must work offline.
# The navigation's material icons come from the font bundled with Streamlit.
st.set_page_config(page_title="LightOnOCR console", page_icon="📄", layout="wide")

# Before anything is built or shown: not on loopback, or asked for by another name, no service.
refused = refusal(
    bound_address=st.get_option("server.address"),
    host_header=st.context.headers.get("Host"),
    allowed=extra_hosts(),
)
if refused:
    st.error(refused)
    st.stop()

# The page draws into one placeholder, so an outage met halfway replaces it whole.
page = st.empty()
try:
    with page.container():
        # Behind IAP only a verified person gets further than this (see console/_identity.py).
        current_identity()
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
                st.Page(VIEWS / "review.py", title="Review", icon=":material/rate_review:"),
                st.Page(VIEWS / "quality.py", title="Quality", icon=":material/fact_check:"),
                st.Page(VIEWS / "compare.py", title="Compare", icon=":material/compare:"),
                st.Page(VIEWS / "backfills.py", title="Backfills", icon=":material/inventory_2:"),
            ]
        )
        navigation.run()
    # Drawn after the page so it shows the state the page's action (warm up, scale) left.
    render_sidebar()
except StoreError as error:  # the database is away: say so, never a traceback
    page.empty()
    show_store_unreachable(error)
