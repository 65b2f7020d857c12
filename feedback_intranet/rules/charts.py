"""Chart geometry for server-rendered SVG: the template draws what these return. Pure: no Flask.

Charts carry no script and no style attribute, so the content security policy allows them
without exceptions; colours come from classes in the stylesheet.
"""

from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 40


@dataclass
class Chart:
    title: str
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    points: list = field(default_factory=list)
    y_ticks: list = field(default_factory=list)
    x_labels: list = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right: float = WIDTH - RIGHT


def _nice_top(value):
    """The first of 5, 10, 20, 50, 100, 200… at least `value`: its fifths are whole numbers."""
    top = 5
    while top < value:
        top = top * 5 // 2 if str(top)[0] == "2" else top * 2
    return top


def _y(value, top):
    return round(HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * value / top, 1)


def _slots(count):
    width = (WIDTH - LEFT - RIGHT) / max(count, 1)
    return width, [LEFT + width * index for index in range(count)]


def _x_labels(labels, slot, starts):
    """Each label as its lines (a week's number over its days): every label when they fit,
    otherwise every n-th, so they never overlap."""
    lines = [label if isinstance(label, tuple) else (label,) for label in labels]
    widest = max((len(line) for label in lines for line in label), default=0)
    every = max(1, -(-len(labels) * max(56, 7 * widest) // (WIDTH - LEFT - RIGHT)))
    return [{"x": round(start + slot / 2, 1), "lines": label}
            for index, (label, start) in enumerate(zip(lines, starts, strict=True))
            if index % every == 0]


def bar_chart(title, description, labels, values, axis=None):
    """Bars of `values`; each bar's title names its label, and the axis writes `axis` (a tuple
    of lines per bar) or the labels themselves."""
    top = _nice_top(max(values, default=0) or 1)
    slot, starts = _slots(len(values))
    chart = Chart(title, description)
    chart.y_ticks = [{"y": _y(top * part // 5, top), "text": str(top * part // 5)}
                     for part in range(6)]
    for start, value, label in zip(starts, values, labels, strict=True):
        y = _y(value, top)
        chart.bars.append({"x": round(start + slot * 0.15, 1), "y": y, "width": round(slot * 0.7, 1),
                           "height": round(HEIGHT - BOTTOM - y, 1), "label": f"{label}: {value}"})
    chart.x_labels = _x_labels(axis or labels, slot, starts)
    return chart


def percent_line_chart(title, description, labels, values, axis=None):
    """A line of percentages; a None (nothing to measure that week) breaks the line. The axis
    writes `axis` or the labels, as in `bar_chart`."""
    slot, starts = _slots(len(values))
    chart = Chart(title, description)
    chart.y_ticks = [{"y": _y(value, 100), "text": f"{value} %"} for value in (0, 25, 50, 75, 100)]
    segment = []
    for start, value, label in zip(starts, values, labels, strict=True):
        if value is None:
            if segment:
                chart.lines.append(segment)
            segment = []
            continue
        point = {"x": round(start + slot / 2, 1), "y": _y(value, 100), "label": f"{label}: {value} %"}
        segment.append(point)
        chart.points.append(point)
    if segment:
        chart.lines.append(segment)
    chart.lines = [" ".join(f"{p['x']},{p['y']}" for p in line) for line in chart.lines]
    chart.x_labels = _x_labels(axis or labels, slot, starts)
    return chart
