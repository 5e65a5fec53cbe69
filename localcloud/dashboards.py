"""CloudWatch dashboard bodies checked the way PutDashboard checks them, for the deployer (moto's
PutDashboard only checks that the body is JSON).

The rules (CloudWatch API Reference, "Dashboard Body Structure and Syntax"):
- the body is a JSON object with a ``widgets`` array (0-500 widgets) and optionally ``start``, ``end``,
  ``periodOverride`` (auto or inherit) and ``variables``;
- a widget has a ``type`` (metric, text, log, alarm, explorer, custom), ``properties``, and a position in
  the 24-column grid: ``x`` 0-23, ``width`` 1-24 with ``x + width`` at most 24, ``y`` >= 0, ``height`` 1-1000;
- a metric widget names its ``region``; its ``metrics`` are arrays ``[Namespace, MetricName, DimensionName,
  DimensionValue, ..., {rendering options}]`` (names and values non-empty strings, dimensions in pairs, at
  most 30) or ``[{"expression": ...}]``; ``"."`` repeats the previous row's value at that position; rendering
  options are among accountId, color, id, label, period, region, stat, visible, yAxis (left or right);
  ``view`` is timeSeries, singleValue, gauge, bar, pie or table; ``period`` a positive number of seconds
  (1, 5, 10, 30 or a multiple of 60); annotations have numeric values;
- stricter than CloudWatch (it would accept them; a template here should not carry them): a string still
  holding ``${...}`` (a substitution that did not happen).
``metrics(body)`` lists the metrics a valid body names, with the ``"."`` shorthand expanded.
"""

from __future__ import annotations

import json
import re
from typing import Any

WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer", "custom"}
VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
OPTIONS = {"accountId", "color", "id", "label", "period", "region", "stat", "visible", "yAxis"}
TOP_LEVEL = {"widgets", "start", "end", "periodOverride", "variables"}
_STAT = re.compile(
    r"^(SampleCount|Average|Sum|Minimum|Maximum|IQM|(p|tm|wm|tc|ts|pr)\d{1,2}(\.\d+)?|(TM|WM|TC|TS|PR)\(.+\))$"
)
_UNRESOLVED = re.compile(r"\$\{[^}]*\}")
MAX_DIMENSIONS = 30


def _period_ok(value: Any) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value > 0
        and (value in (1, 5, 10, 30) or value % 60 == 0)
    )


def _options(options: dict[str, Any], path: str, problems: list[str]) -> None:
    for name in sorted(set(options) - OPTIONS):
        problems.append(f"{path}: unknown rendering property {name!r}")
    if "yAxis" in options and options["yAxis"] not in ("left", "right"):
        problems.append(f"{path}.yAxis: must be 'left' or 'right', got {options['yAxis']!r}")
    if "period" in options and not _period_ok(options["period"]):
        problems.append(f"{path}.period: must be 1, 5, 10, 30 or a multiple of 60, got {options['period']!r}")
    if "stat" in options and not _STAT.match(str(options["stat"])):
        problems.append(f"{path}.stat: {options['stat']!r} is not a statistic")


def expand(row: list[Any], previous: list[Any] | None) -> list[Any]:
    """A metric row with its ``"."`` shorthand replaced by the previous row's values."""
    return [previous[i] if v == "." and previous is not None and i < len(previous) else v for i, v in enumerate(row)]


def _metric_row(row: Any, previous: list[Any] | None, path: str, problems: list[str]) -> list[Any] | None:
    if not isinstance(row, list) or not row:
        problems.append(f"{path}: a metric must be a non-empty array")
        return None
    options = row[-1] if isinstance(row[-1], dict) else {}
    fields = expand(row[:-1] if options else row, previous)
    if options and "expression" in options and not fields:
        return None  # a math expression: nothing named
    _options({k: v for k, v in options.items() if k != "expression"}, f"{path}[{len(row) - 1}]", problems)
    if len(fields) < 2:
        problems.append(f"{path}: expected [Namespace, MetricName, DimensionName, DimensionValue, ...]")
        return None
    if len(fields) % 2:
        problems.append(f"{path}: dimension {fields[-1]!r} has no value (dimensions come in name/value pairs)")
    if (len(fields) - 2) // 2 > MAX_DIMENSIONS:
        problems.append(f"{path}: more than {MAX_DIMENSIONS} dimensions")
    for i, value in enumerate(fields):
        if not isinstance(value, str) or not value or value == ".":
            problems.append(f"{path}[{i}]: expected a non-empty string, got {value!r}")
    return fields


def _metric_widget(props: dict[str, Any], path: str, problems: list[str]) -> None:
    if not isinstance(props.get("region"), str) or not props.get("region"):
        problems.append(f"{path}.region: a metric widget must name its region")
    if "view" in props and props["view"] not in VIEWS:
        problems.append(f"{path}.view: {props['view']!r} is not one of {sorted(VIEWS)}")
    if "period" in props and not _period_ok(props["period"]):
        problems.append(f"{path}.period: must be 1, 5, 10, 30 or a multiple of 60, got {props['period']!r}")
    if "stat" in props and not _STAT.match(str(props["stat"])):
        problems.append(f"{path}.stat: {props['stat']!r} is not a statistic")
    rows = props.get("metrics")
    if rows is None and "annotations" not in props:
        problems.append(f"{path}: a metric widget needs metrics (or annotations)")
    if rows is not None and not isinstance(rows, list):
        problems.append(f"{path}.metrics: must be an array of arrays")
        rows = []
    previous: list[Any] | None = None
    for n, row in enumerate(rows or []):
        fields = _metric_row(row, previous, f"{path}.metrics[{n}]", problems)
        previous = fields if fields is not None else previous
    for direction in ("horizontal", "vertical"):
        for n, note in enumerate((props.get("annotations") or {}).get(direction) or []):
            for m, point in enumerate(note if isinstance(note, list) else [note]):
                value = point.get("value") if isinstance(point, dict) else None
                wanted = (int, float) if direction == "horizontal" else (str,)
                if not isinstance(value, wanted) or isinstance(value, bool):
                    problems.append(f"{path}.annotations.{direction}[{n}][{m}].value: got {value!r}")


def _widget(widget: Any, path: str, problems: list[str]) -> None:
    if not isinstance(widget, dict):
        problems.append(f"{path}: must be an object")
        return
    if widget.get("type") not in WIDGET_TYPES:
        problems.append(f"{path}.type: {widget.get('type')!r} is not one of {sorted(WIDGET_TYPES)}")
    x, y, width, height = (widget.get(k, d) for k, d in (("x", 0), ("y", 0), ("width", 6), ("height", 6)))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (x, y, width, height)):
        problems.append(f"{path}: x, y, width and height must be integers")
    elif not (0 <= x <= 23 and 1 <= width <= 24 and x + width <= 24 and y >= 0 and 1 <= height <= 1000):
        problems.append(f"{path}: x={x}, width={width}, y={y}, height={height} is outside the 24-column grid")
    props = widget.get("properties")
    if not isinstance(props, dict):
        problems.append(f"{path}.properties: required, an object")
    elif widget.get("type") == "metric":
        _metric_widget(props, f"{path}.properties", problems)


def validate(body: str) -> list[str]:
    """What PutDashboard would refuse in ``body`` (empty when it is a valid dashboard)."""
    try:
        doc = json.loads(body)
    except (TypeError, ValueError) as err:
        return [f"the dashboard body is not valid JSON: {err}"]
    if not isinstance(doc, dict):
        return ["the dashboard body must be a JSON object"]
    problems = [f"{k}: unknown top-level field" for k in sorted(set(doc) - TOP_LEVEL)]
    widgets = doc.get("widgets")
    if not isinstance(widgets, list):
        return [*problems, "widgets: required, an array"]
    if len(widgets) > 500:
        problems.append(f"widgets: at most 500, got {len(widgets)}")
    if doc.get("periodOverride", "auto") not in ("auto", "inherit"):
        problems.append(f"periodOverride: 'auto' or 'inherit', got {doc['periodOverride']!r}")
    for n, widget in enumerate(widgets):
        _widget(widget, f"widgets[{n}]", problems)
    problems += [f"unresolved substitution {m!r}" for m in sorted(set(_UNRESOLVED.findall(body)))]
    return problems


def metrics(body: str) -> list[dict[str, Any]]:
    """Every metric a valid body names: namespace, name, dimensions, options, and the widget's title."""
    out: list[dict[str, Any]] = []
    for widget in json.loads(body)["widgets"]:
        props = widget.get("properties") or {}
        previous: list[Any] | None = None
        for row in props.get("metrics") or []:
            options = row[-1] if isinstance(row[-1], dict) else {}
            fields = expand(row[:-1] if options else row, previous)
            if len(fields) < 2:
                continue
            previous = fields
            out.append(
                {
                    "widget": props.get("title", ""),
                    "namespace": fields[0],
                    "name": fields[1],
                    "dimensions": dict(zip(fields[2::2], fields[3::2], strict=False)),
                    "options": options,
                }
            )
    return out
