"""The TEDS metric of bench/teds_bench.py, on tables whose edit distance is known by hand."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench/teds_bench.py"
_SPEC = importlib.util.spec_from_file_location("teds_bench", BENCH)
teds_bench = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("teds_bench", teds_bench)  # dataclasses look their module up there
_SPEC.loader.exec_module(teds_bench)
teds = teds_bench.teds


def table(head: list[str], *rows: list[str]) -> str:
    def tr(cells: list[str]) -> str:
        return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"

    return f"<table><thead>{tr(head)}</thead><tbody>{''.join(tr(r) for r in rows)}</tbody></table>"


TRUE = table(["Name", "Value"], ["alpha", "1.0"], ["beta", "2.0"], ["gamma", "3.0"])


def test_identical_tables_score_one():
    assert teds(TRUE, TRUE) == 1.0
    assert teds(TRUE, TRUE, structure_only=True) == 1.0


def test_a_dropped_row_costs_its_three_nodes_over_the_larger_tree():
    # thead, tbody, 4 tr, 8 td = 14 nodes; dropping a row deletes one tr and its two td.
    pred = table(["Name", "Value"], ["alpha", "1.0"], ["gamma", "3.0"])
    assert teds(pred, TRUE) == pytest.approx(1 - 3 / 14)
    assert teds(TRUE, pred) == pytest.approx(1 - 3 / 14)


def test_content_costs_normalised_levenshtein_and_structure_only_ignores_it():
    pred = table(["Name", "Value"], ["alpha", "1.5"], ["beta", "2.0"], ["gamma", "3.0"])  # one char of 3 wrong
    assert teds(pred, TRUE) == pytest.approx(1 - (1 / 3) / 14)
    scrambled = table(["x", "y"], ["x", "y"], ["x", "y"], ["x", "y"])
    assert teds(scrambled, TRUE, structure_only=True) == 1.0
    assert teds(scrambled, TRUE) < 0.5


def test_a_span_mismatch_costs_one_whatever_the_content():
    spanned = '<table><tbody><tr><td colspan="2">a</td></tr><tr><td>b</td><td>c</td></tr></tbody></table>'
    plain = "<table><tbody><tr><td>a</td></tr><tr><td>b</td><td>c</td></tr></tbody></table>"
    # tbody, 2 tr, 3 td = 6 nodes; only the first cell's colspan differs.
    assert teds(plain, spanned, structure_only=True) == pytest.approx(1 - 1 / 6)


def test_th_reads_as_td_and_missing_tables_score_zero():
    with_th = TRUE.replace("<td>Name</td><td>Value</td>", "<th>Name</th><th>Value</th>")
    assert teds(with_th, TRUE) == 1.0
    assert teds("", TRUE) == 0.0
    assert teds("<p>no table</p>", TRUE) == 0.0


def test_matches_the_reference_implementation_on_its_demo_pair():
    # github.com/ibm-aur-nlp/PubTabNet src/demo.ipynb: the reference TEDS printed 0.9781765018607124 for this pair
    # (inline <b> counts as a node and as content tokens there, and here).
    rows = [
        ("MACS [23]", "Uses both a control library and local statistics to minimize bias"),
        ("SICER [14]", "Designed for detecting diffusely enriched regions; for example, histone modification"),
        ("PeakSeq [24]", "Corrects for reference genome mappability and local statistics"),
        ("SISSRs [25]", "High resolution, precise identification of binding-site location"),
        ("F-seq [26]", "Uses kernel density estimation"),
    ]
    body = "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows)
    true = (
        "<html><body><table><thead><tr><td><b>Name of algorithm</b></td><td><b>Notable features</b></td></tr>"
        f"</thead><tbody>{body}</tbody></table></body></html>"
    )
    pred = (
        true.replace("Name of algorithm", "Name of algori")
        .replace("Notable features", "Notablefeatures")
        .replace("SICER [14]", "SICER [15]")
        .replace("PeakSeq", "PeakSEQ")
    )
    assert teds(pred, true) == pytest.approx(0.9781765018607124, abs=1e-12)
    assert teds(pred, true, structure_only=True) == 1.0


def test_ground_truth_html_inserts_cells_after_each_opening_tag():
    record = {
        "html": {
            "structure": {"tokens": ["<thead>", "<tr>", "<td", ' colspan="2"', ">", "</td>", "</tr>", "</thead>"]},
            "cells": [{"tokens": ["<b>", "a", "&", "b", "</b>"]}],
        }
    }
    html = teds_bench.ground_truth_html(record)
    assert html == (
        '<html><body><table><thead><tr><td colspan="2"><b>a&amp;b</b></td></tr></thead></table></body></html>'
    )
