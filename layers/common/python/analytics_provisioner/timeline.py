"""A self-contained SVG timeline of one execution: one lane per parallel branch (and one for the states
around them), each state a bar from its start to its end, waits hatched, the critical path outlined:
the states the execution's end waited for (the branch that finished last inside each Parallel state)."""

from html import escape

from .execution import HistoryView, StateRun
from .progress import Branch, Layout

LABEL_WIDTH, CHART_WIDTH, LANE_HEIGHT, TOP, BOTTOM = 230, 860, 30, 34, 30
MAIN_LANE = "workflow"
COLOURS = {"succeeded": "#4c9a2a", "failed": "#c0392b", "stopped": "#999999", "running": "#2e86c1"}


def lanes(view: HistoryView, layout: Layout) -> dict[str, list[StateRun]]:
    """The states worth a bar (no Choice or Pass bookkeeping), by lane, in the order they ran."""
    found: dict[str, list[StateRun]] = {MAIN_LANE: []}
    for run in view.states:
        if layout.shown(run.name, run.kind):
            branch = layout.branch_of.get(run.name)
            found.setdefault(branch.label if branch else MAIN_LANE, []).append(run)
    return found


def critical(view: HistoryView, layout: Layout, end: float) -> set[int]:
    """ids of the runs on the critical path: every main-lane state, and inside each Parallel state the
    branch whose last state ended last (the one the Parallel state waited for)."""
    by_branch: dict[Branch, list[StateRun]] = {}
    chosen = {id(run) for run in view.states if run.name not in layout.branch_of}
    for run in view.states:
        if run.name in layout.branch_of:
            by_branch.setdefault(layout.branch_of[run.name], []).append(run)
    for branches in layout.parallels.values():
        ran = [branch for branch in branches if branch in by_branch]
        if ran:
            last = max(ran, key=lambda branch: max((run.exited or end) for run in by_branch[branch]))
            chosen |= {id(run) for run in by_branch[last]}
    return chosen


def svg(view: HistoryView, layout: Layout, title: str) -> str:
    """The timeline as an SVG document (no scripts, no external references)."""
    if not view.states:
        return _document(title, 0, [], 0.0)
    start = min(run.entered for run in view.states)
    end = max(max((run.exited or run.entered) for run in view.states), start + 0.001)
    by_lane, on_path = lanes(view, layout), critical(view, layout, end)
    scale = CHART_WIDTH / (end - start)
    shapes = []
    for index, (lane, runs) in enumerate(by_lane.items()):
        y = TOP + index * LANE_HEIGHT
        shapes.append(f'<text x="8" y="{y + 19}" class="lane">{escape(lane)}</text>')
        shapes.append(
            f'<line x1="{LABEL_WIDTH}" y1="{y + LANE_HEIGHT - 2}" x2="{LABEL_WIDTH + CHART_WIDTH}" y2="{y + LANE_HEIGHT - 2}" class="rule"/>'
        )
        shapes += [_bar(run, y, start, end, scale, id(run) in on_path) for run in runs]
    return _document(title, len(by_lane), shapes, end - start)


def _bar(run: StateRun, y: float, start: float, end: float, scale: float, on_path: bool) -> str:
    x = LABEL_WIDTH + (run.entered - start) * scale
    width = max(((run.exited or end) - run.entered) * scale, 2.0)
    fill = "url(#wait)" if run.kind == "Wait" else COLOURS.get(run.status, "#2e86c1")
    seconds = f"{run.seconds:.2f} s" if run.seconds is not None else "did not end"
    outline = ' class="critical"' if on_path else ""
    return (
        f'<rect x="{x:.1f}" y="{y + 5}" width="{width:.1f}" height="{LANE_HEIGHT - 12}" fill="{fill}"{outline}>'
        f"<title>{escape(run.name)}: {run.status}, {seconds}</title></rect>"
    )


def _document(title: str, lane_count: int, shapes: list[str], seconds: float) -> str:
    height = TOP + lane_count * LANE_HEIGHT + BOTTOM
    width = LABEL_WIDTH + CHART_WIDTH + 20
    legend = (
        f'<text x="8" y="{height - 10}" class="legend">{seconds:.1f} s in all. Bars: states (green succeeded, red failed, '
        "grey stopped); hatched: waits; outlined: the critical path.</text>"
    )
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">',
            '<defs><pattern id="wait" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            '<rect width="6" height="6" fill="#d6eaf8"/><line x1="0" y1="0" x2="0" y2="6" stroke="#2e86c1" stroke-width="2"/></pattern>'
            "<style>.lane{font-size:13px}.legend{font-size:11px;fill:#555}.rule{stroke:#eee}"
            ".critical{stroke:#000;stroke-width:2}.title{font-size:14px;font-weight:bold}</style></defs>",
            f'<rect width="{width}" height="{height}" fill="#fff"/>',
            f'<text x="8" y="20" class="title">{escape(title)}</text>',
            *shapes,
            legend,
            "</svg>",
            "",
        ]
    )
