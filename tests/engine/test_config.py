import pytest

from tasks_app.engine import ConfigError, ParseConfig


def test_defaults_echo_contract_shape():
    d = ParseConfig.from_dict({}).to_dict()
    assert d["chunk_processing"] == {
        "ignore_headers_and_footers": None,
        "target_length": 4096,
        "tokenizer": {"Enum": "Word"},
    }
    assert d["error_handling"] == "Fail"
    assert d["ocr_strategy"] == "All"
    assert d["pipeline"] == "Chunkr"
    assert d["segmentation_strategy"] == "LayoutAnalysis"
    sp = d["segment_processing"]
    assert sp["Table"]["format"] == "Html"
    assert sp["Text"]["format"] == "Markdown"
    assert sp["Picture"]["crop_image"] == "All"
    assert sp["Text"]["crop_image"] == "Auto"
    assert set(sp["Title"]) == {"crop_image", "description", "extended_context", "format", "strategy", "llm"}


def test_partial_objects_merge_field_by_field():
    cfg = ParseConfig.from_dict(
        {"chunk_processing": {"target_length": 0}, "segment_processing": {"Table": {"format": "Markdown"}}}
    )
    assert cfg.chunk_processing.target_length == 0
    assert cfg.chunk_processing.tokenizer == {"Enum": "Word"}
    table = cfg.generation("Table")
    assert table.format == "Markdown"
    assert table.crop_image == "Auto"  # untouched field keeps its default


def test_segment_processing_keys_case_and_underscore_insensitive():
    cfg = ParseConfig.from_dict(
        {"segment_processing": {"list_item": {"strategy": "Ignore"}, "PAGEHEADER": {"format": "Html"}}}
    )
    assert cfg.generation("ListItem").strategy == "Ignore"
    assert cfg.generation("PageHeader").format == "Html"
    assert "ListItem" in cfg.to_dict()["segment_processing"]


def test_section_header_falls_back_to_title():
    cfg = ParseConfig.from_dict({"segment_processing": {"Title": {"format": "Html", "strategy": "Ignore"}}})
    assert cfg.generation("SectionHeader").format == "Html"
    assert cfg.generation("SectionHeader").strategy == "Ignore"
    cfg2 = ParseConfig.from_dict(
        {"segment_processing": {"Title": {"format": "Html"}, "SectionHeader": {"format": "Markdown"}}}
    )
    assert cfg2.generation("SectionHeader").format == "Markdown"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"Enum": "Cl100kBase"}, {"Enum": "Cl100kBase"}),
        ({"String": "facebook/bart-large"}, {"String": "facebook/bart-large"}),
        ("Word", {"Enum": "Word"}),
        ("cl100kbase", {"Enum": "Cl100kBase"}),
        ("bert-base-uncased", {"String": "bert-base-uncased"}),
    ],
)
def test_tokenizer_forms(raw, expected):
    cfg = ParseConfig.from_dict({"chunk_processing": {"tokenizer": raw}})
    assert cfg.chunk_processing.tokenizer == expected


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"ocr_strategy": "Sometimes"}, "ocr_strategy"),
        ({"chunk_processing": {"target_length": -1}}, "chunk_processing.target_length"),
        ({"chunk_processing": {"target_length": "big"}}, "chunk_processing.target_length"),
        ({"chunk_processing": {"tokenizer": {"Enum": "Nope"}}}, "chunk_processing.tokenizer.Enum"),
        ({"segment_processing": {"Table": {"format": "Pdf"}}}, "segment_processing.Table.format"),
        ({"segment_processing": {"Banana": {}}}, "segment_processing.Banana"),
        ({"segment_processing": {"Text": {"description": "yes"}}}, "segment_processing.Text.description"),
    ],
)
def test_bad_values_name_the_field(raw, path):
    with pytest.raises(ConfigError) as exc:
        ParseConfig.from_dict(raw)
    assert path in exc.value.user_message


def test_ignore_headers_and_footers_maps_to_ignore():
    cfg = ParseConfig.from_dict({"chunk_processing": {"ignore_headers_and_footers": True}})
    assert cfg.generation("PageHeader").strategy == "Ignore"
    assert cfg.generation("PageFooter").strategy == "Ignore"
    assert cfg.generation("Text").strategy == "Auto"


def test_llm_processing_is_echoed():
    cfg = ParseConfig.from_dict({"llm_processing": {"llm_model_id": "x", "fallback_strategy": "Default"}})
    assert cfg.to_dict()["llm_processing"]["llm_model_id"] == "x"
