"""The clinician's downloadable report, built in memory: a JSON document and a self-contained HTML page.

Nothing is written to disk: the page offers both as ``data:`` links (the browser saves them), so the
report of a patient photo never passes through the server's file cache. The HTML page holds its images
as embedded JPEGs and needs no network.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

REPORT_NOTE = ("Research software, not a medical device. The demo models were trained on synthetic, "
               "computer-drawn faces, not on patients. Sides are the patient's anatomical sides.")


def image_data_uri(image: np.ndarray, fmt: str = "JPEG") -> str:
    """``data:image/...;base64,...`` of an RGB uint8 ``(H, W, 3)`` image: JPEG (quality 90, small enough
    to send with every result) or PNG (lossless)."""
    buffer = io.BytesIO()
    options = {"quality": 90} if fmt == "JPEG" else {}
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, fmt, **options)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def report_json(data: Mapping[str, Any]) -> str:
    """The report's JSON text (sorted keys, two-space indent, the disclaimer included)."""
    return json.dumps({"note": REPORT_NOTE, **data}, indent=2, sort_keys=True, allow_nan=False,
                      default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222;line-height:1.45}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}.note{background:#fff4e0;padding:.6em 1em;
border-left:4px solid #e69f00}.score{font-size:2.2em;font-weight:700}table{border-collapse:collapse;
margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}figure{display:inline-block;
margin:.5em;vertical-align:top}figure img{max-width:300px;border:1px solid #ddd}figcaption{font-size:.9em;
max-width:300px}
"""


def report_html(title: str, sections: Sequence[tuple[str, str]], images: Sequence[tuple[str, np.ndarray]],
                tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]] = ()) -> str:
    """A self-contained HTML page.

    Args:
        title: page heading.
        sections: ``(heading, text)`` pairs; text is plain (escaped here), blank lines split paragraphs.
        images: ``(caption, RGB uint8 image)`` pairs, embedded as JPEG data URIs.
        tables: ``(heading, header, rows)`` triples.
    """
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p class='note'>{html.escape(REPORT_NOTE)}</p>"]
    for heading, text in sections:
        paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())
        parts.append(f"<h2>{html.escape(heading)}</h2>{paragraphs}")
    if images:
        parts.append("<h2>Images</h2>")
        for caption, image in images:
            parts.append(f"<figure><img alt='{html.escape(caption)}' src='{image_data_uri(image)}'>"
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    for heading, header, rows in tables:
        parts.append(f"<h2>{html.escape(heading)}</h2>{_table(rows, header)}")
    parts.append("</body></html>")
    return "".join(parts)


def download_links(json_text: str, html_text: str, stem: str = "pain-assessment") -> str:
    """HTML with two download links whose targets are ``data:`` URLs (nothing stored on the server)."""
    as_json = base64.b64encode(json_text.encode("utf-8")).decode("ascii")
    as_html = base64.b64encode(html_text.encode("utf-8")).decode("ascii")
    return (f"<div class='report-links'>Download the report: "
            f"<a download='{stem}.html' href='data:text/html;charset=utf-8;base64,{as_html}'>HTML page</a>"
            f" · <a download='{stem}.json' href='data:application/json;base64,{as_json}'>JSON</a></div>")
