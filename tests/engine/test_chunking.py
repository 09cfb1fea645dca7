from __future__ import annotations

import random
import socket

import pytest

from tasks_app.engine import chunking
from tasks_app.engine.chunking import CHUNK_SEPARATOR, ChunkItem, build_chunks, chunk_embed, count_tokens
from tasks_app.engine.tokenizers import (
    BUILTIN_TOKENIZERS,
    TOKENIZER_DIRS_ENV,
    Tokenizer,
    TokenizerUnavailable,
    get_tokenizer,
)


def seg(segment_type: str, words: int = 1, page: int = 1) -> ChunkItem:
    return ChunkItem(segment_type, " ".join(["w"] * words), page)


def chunks(items: list[ChunkItem], target: int, **kw: bool) -> list[list[int]]:
    return build_chunks(items, target, "Word", **kw)


# --- tokenizers ----------------------------------------------------------------------------

SAMPLE = "Hello, world! unaffable"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Word", 3),
        # Reference counts from the Hugging Face / OpenAI tokenizers, special tokens excluded:
        # cl100k [9906, 11, 1917, 0, 653, 2715, 481]; bert hello , world ! una ##ff ##able;
        # xlm-r ▁Hello , ▁world ! ▁una ff able.
        ("Cl100kBase", 7),
        ("BertBaseUncased", 7),
        ("XlmRobertaBase", 7),
    ],
)
def test_builtin_tokenizer_counts(name: str, expected: int) -> None:
    tok = get_tokenizer(name)
    assert isinstance(tok, Tokenizer)
    assert tok.count(SAMPLE) == expected
    assert tok.count("") == 0
    assert tok.count_many([SAMPLE, "", SAMPLE]) == [expected, 0, expected]


def test_builtin_names_listed() -> None:
    assert BUILTIN_TOKENIZERS == ("Word", "Cl100kBase", "XlmRobertaBase", "BertBaseUncased")


def test_tokenizer_ids_match_reference() -> None:
    # Guards the packaged vocabularies: these are the published ids of the real tokenizers.
    enc = get_tokenizer("Cl100kBase")._enc  # type: ignore[attr-defined]
    assert enc.encode_ordinary(SAMPLE) == [9906, 11, 1917, 0, 653, 2715, 481]


def test_aliases_and_cache() -> None:
    assert get_tokenizer("bert-base-uncased") is get_tokenizer("bert-base-uncased")
    assert get_tokenizer("Word") is get_tokenizer("Word")
    assert get_tokenizer("cl100k_base").count(SAMPLE) == 7
    assert get_tokenizer("xlm-roberta-base").name == "XlmRobertaBase"
    assert get_tokenizer("google-bert/bert-base-uncased").name == "BertBaseUncased"


def test_special_token_text_is_plain_text() -> None:
    assert count_tokens("<|endoftext|>", "Cl100kBase") > 1


def test_unknown_hub_id_never_touches_network(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)

    def no_network(*_args: object, **_kw: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(TokenizerUnavailable, match="never downloaded") as exc:
        get_tokenizer("someorg/not-cached-model")
    assert exc.value.name == "someorg/not-cached-model"


def test_empty_name_is_unavailable() -> None:
    with pytest.raises(TokenizerUnavailable):
        get_tokenizer("  ")


def _write_wordlevel_tokenizer(path) -> None:
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    tok = HFTokenizer(WordLevel({"[UNK]": 0, "hello": 1, "world": 2}, unk_token="[UNK]"))  # noqa: S106
    tok.pre_tokenizer = Whitespace()
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))


def test_local_tokenizer_json_under_allowed_dir(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    path = tmp_path / "mine" / "tokenizer.json"
    _write_wordlevel_tokenizer(path)
    monkeypatch.setenv(TOKENIZER_DIRS_ENV, str(tmp_path))
    assert get_tokenizer(str(path)).count("hello world, again") == 4  # hello world , again
    assert get_tokenizer(str(path.parent) + "/").count("hello") == 1  # a directory works too


def test_local_path_outside_allowed_dirs_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    path = tmp_path / "elsewhere" / "tokenizer.json"
    _write_wordlevel_tokenizer(path)
    monkeypatch.setenv(TOKENIZER_DIRS_ENV, str(tmp_path / "allowed"))
    with pytest.raises(TokenizerUnavailable, match=TOKENIZER_DIRS_ENV):
        get_tokenizer(str(path))


def test_hub_id_from_local_cache(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    repo = tmp_path / "models--acme--tiny-tok"
    _write_wordlevel_tokenizer(repo / "snapshots" / "abc123" / "tokenizer.json")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert get_tokenizer("acme/tiny-tok").count("hello there world") == 3


# --- chunking rules --------------------------------------------------------------------------


def test_empty_input() -> None:
    assert chunks([], 10) == []


def test_segments_packed_up_to_target() -> None:
    items = [seg("Text", 3) for _ in range(5)]
    assert chunks(items, 7) == [[0, 1], [2, 3], [4]]
    assert chunks(items, 6) == [[0, 1], [2, 3], [4]]  # equal to target still fits
    assert chunks(items, 5) == [[0], [1], [2], [3], [4]]
    assert chunks(items, 100) == [[0, 1, 2, 3, 4]]


def test_oversized_segment_is_its_own_chunk() -> None:
    items = [seg("Text", 2), seg("Text", 10), seg("Text", 2), seg("Text", 2)]
    assert chunks(items, 5) == [[0], [1], [2, 3]]


def test_target_zero_one_segment_per_chunk() -> None:
    items = [seg("Title"), seg("Text", 2), seg("Caption"), seg("Picture"), seg("PageFooter")]
    assert chunks(items, 0) == [[0], [1], [2], [3]]
    assert chunks(items, 0, ignore_headers_and_footers=False) == [[0], [1], [2], [3], [4]]


def test_headings_open_chunks_as_in_chunkr() -> None:
    # Chunkr's test_hierarchical_chunking.
    items = [
        seg("Title"),
        seg("SectionHeader"),
        seg("Text", 2),
        seg("SectionHeader"),
        seg("Text", 2),
        seg("Title"),
        seg("SectionHeader"),
    ]
    assert chunks(items, 100) == [[0, 1, 2], [3, 4], [5, 6]]


def test_heading_never_ends_a_chunk() -> None:
    items = [seg("Text", 4), seg("SectionHeader", 1), seg("Text", 4)]
    # Packing by length alone would give [[0, 1], [2]].
    assert chunks(items, 6) == [[0], [1, 2]]


def test_heading_with_following_segment_over_target_stays_together() -> None:
    items = [seg("Text", 1), seg("Title", 2), seg("Text", 5), seg("Text", 1)]
    assert chunks(items, 5) == [[0], [1, 2], [3]]


def test_trailing_heading_is_its_own_chunk() -> None:
    items = [seg("Text", 2), seg("SectionHeader", 1)]
    assert chunks(items, 100) == [[0], [1]]


def test_caption_before_table_moves_with_it() -> None:
    items = [seg("Text", 4), seg("Caption", 2), seg("Table", 2)]
    assert chunks(items, 6) == [[0], [1, 2]]


def test_caption_after_picture_moves_with_it() -> None:
    items = [seg("Text", 3), seg("Picture", 2), seg("Caption", 2), seg("Text", 1)]
    # By length alone: [[0, 1], [2, 3]].
    assert chunks(items, 5) == [[0], [1, 2, 3]]


def test_chunkr_caption_cases() -> None:
    cap_pic = [seg("Caption", 2), seg("Picture", 2), seg("Caption", 2), seg("Picture", 2)]
    assert chunks(cap_pic, 100) == [[0, 1, 2, 3]]
    assert chunks(cap_pic, 4) == [[0, 1], [2, 3]]
    long_text = [ChunkItem("Text", "Some long text " * 10), seg("Caption", 2), seg("Picture", 2)]
    assert chunks(long_text, 15) == [[0], [1, 2]]
    unpaired = [seg("Picture"), seg("Text"), seg("Caption")]
    assert chunks(unpaired, 100) == [[0, 1, 2]]


def test_caption_between_table_and_picture_goes_to_picture() -> None:
    items = [seg("Table", 3), seg("Caption", 3), seg("Picture", 3)]
    assert chunks(items, 6) == [[0], [1, 2]]


def test_caption_between_picture_and_table_stays_below_picture() -> None:
    items = [seg("Picture", 3), seg("Caption", 3), seg("Table", 3)]
    assert chunks(items, 6) == [[0, 1], [2]]


def test_pictures_with_captions_below() -> None:
    items = [seg("Picture", 2), seg("Caption", 2), seg("Picture", 2), seg("Caption", 2)]
    assert chunks(items, 4) == [[0, 1], [2, 3]]


def test_captions_above_and_below_one_table() -> None:
    items = [seg("Text", 3), seg("Caption", 1), seg("Table", 3), seg("Caption", 1)]
    assert chunks(items, 5) == [[0], [1, 2, 3]]


def test_heading_binds_to_captioned_table() -> None:
    items = [seg("Text", 3), seg("SectionHeader", 1), seg("Caption", 1), seg("Table", 3), seg("Text", 1)]
    assert chunks(items, 6) == [[0], [1, 2, 3, 4]]


def test_furniture_dropped_by_default() -> None:
    items = [seg("PageHeader"), seg("Text", 2), seg("PageFooter"), seg("PageNumber"), seg("Text", 2, page=2)]
    assert chunks(items, 100) == [[1, 4]]


def test_furniture_kept_as_own_chunks_in_reading_order() -> None:
    items = [seg("PageHeader"), seg("Text", 2), seg("PageFooter"), seg("PageNumber"), seg("Text", 2, page=2)]
    # The body chunk flows across the page break; each furniture segment is a chunk of its own.
    assert chunks(items, 100, ignore_headers_and_footers=False) == [[0], [1, 4], [2], [3]]


def test_furniture_between_heading_and_text_does_not_separate_them() -> None:
    items = [seg("Text", 3), seg("SectionHeader"), seg("PageFooter"), seg("Text", 3)]
    assert chunks(items, 5) == [[0], [1, 3]]


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="target_length"):
        chunks([seg("Text")], -1)
    with pytest.raises(TokenizerUnavailable):
        build_chunks([seg("Text")], 10, "nobody/nothing-here")


def test_chunk_embed_and_count_tokens() -> None:
    items = [ChunkItem("Text", "alpha beta"), ChunkItem("Text", "gamma")]
    assert chunk_embed(items, [0, 1]) == "alpha beta" + CHUNK_SEPARATOR + "gamma"
    assert count_tokens(chunk_embed(items, [0, 1]), "Word") == 3


_TYPES = ["Text"] * 8 + ["Title", "SectionHeader", "Caption", "Table", "Picture", "ListItem", "PageHeader"]
_WORDS = ["alpha", "beta,", "12.5%", "naïve", "东京", " ", "\n", "end.", "x" * 30]


@pytest.mark.parametrize("tokenizer", BUILTIN_TOKENIZERS)
def test_random_documents_respect_invariants(tokenizer: str) -> None:
    rng = random.Random(1234)  # noqa: S311 - reproducible test data
    for _ in range(25):
        items = [
            ChunkItem(rng.choice(_TYPES), " ".join(rng.choices(_WORDS, k=rng.randint(0, 25))))
            for _ in range(rng.randint(0, 40))
        ]
        target = rng.choice([1, 8, 30, 90])
        result = build_chunks(items, target, tokenizer)
        flat = [i for c in result for i in c]
        body = [i for i, it in enumerate(items) if it.segment_type != "PageHeader"]
        assert flat == body  # every body segment exactly once, in order
        units = chunking._units(items, body)
        unit_of = {i: n for n, u in enumerate(units) for i in u}
        for c in result:
            if len({unit_of[i] for i in c}) > 1:
                assert count_tokens(chunk_embed(items, c), tokenizer) <= target
            # units are never split across chunks
            for i in c:
                assert set(units[unit_of[i]]) <= set(c)
