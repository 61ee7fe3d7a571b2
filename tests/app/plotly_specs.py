"""The Plotly figures a page sent, as AppTest sees our Plotly element (pages.ui.live_plotly)."""

from __future__ import annotations

import json


def plotly_elements(at) -> list:
    """The page's Plotly elements (bidi components of `cc_live_plotly`), in page order."""
    return [c for c in at.get("bidi_component") if "cc_live_plotly" in c.proto.component_name]


def plotly_figures(at) -> list[tuple[str, dict]]:
    """(element id, which holds its key; the figure as a {"data", "layout"} dict) for each."""
    return [(c.proto.id, json.loads(json.loads(c.proto.json)["figure"])) for c in plotly_elements(at)]


def plotly_specs(at) -> list[tuple[str, str]]:
    """(element id, the figure's JSON text as sent) for each Plotly element of the page."""
    return [(c.proto.id, json.loads(c.proto.json)["figure"]) for c in plotly_elements(at)]
