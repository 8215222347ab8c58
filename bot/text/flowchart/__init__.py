"""SOP flowcharts in the Permenpan-RB layout: geometry (layout), SVG (template), PNG (resvg), cached."""

from bot.text.flowchart.draw import FlowchartCache, draw, png, svg
from bot.text.flowchart.layout import Flowchart, Marks, layout

__all__ = ["Flowchart", "FlowchartCache", "Marks", "draw", "layout", "png", "svg"]
