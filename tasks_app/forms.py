"""Dashboard input validation: the task list's query string and the upload page's processing panel."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone

from tasks_app.choices import TaskStatus, TaskType, ZdrTrigger
from tasks_app.engine import SEGMENT_PROCESSING_KEYS, TOKENIZER_ENUMS, default_generation

PAGE_SIZES = (25, 50, 100)
SORTS = {
    # URL value -> (label, model field); "-" in front of the URL value means descending.
    "created": ("Created", "created_at"),
    "finished": ("Finished", "finished_at"),
    "file_name": ("File name", "file_name"),
    "pages": ("Pages", "page_count"),
    "status": ("Status", "status"),
}
DEFAULT_SORT = "-created"
API_KEY_CREATOR = "api"

RETENTION_CHOICES = [
    ("", "Workspace default"),
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("604800", "7 days"),
    ("2592000", "30 days"),
    ("0", "Never"),
]


def _choices(values) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


class TaskFilterForm(forms.Form):
    """Everything the list shows lives in the URL, so a view of the list can be bookmarked and shared."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *TaskStatus.choices])
    type = forms.ChoiceField(required=False, choices=[("", "Any type"), *TaskType.choices])
    created_from = forms.DateField(required=False)
    created_to = forms.DateField(required=False)
    q = forms.CharField(required=False, max_length=200, strip=True)
    created_by = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for s in SORTS for k in (s, f"-{s}")])
    limit = forms.TypedChoiceField(required=False, coerce=int, choices=[(str(n), str(n)) for n in PAGE_SIZES])
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)

    def __init__(self, data, *, members):
        super().__init__(data)
        self.fields["created_by"].choices = [
            ("", "Anyone"),
            *[(str(m.user_id), m.user.get_username()) for m in members],
            (API_KEY_CREATOR, "API keys"),
        ]

    def cleaned(self) -> dict:
        """Valid values, with defaults for anything missing or malformed (a bad bookmark still opens)."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        data["sort"] = data.get("sort") or DEFAULT_SORT
        data["limit"] = data.get("limit") or PAGE_SIZES[0]
        data["page"] = data.get("page") or 1
        tz = timezone.get_current_timezone()
        if data.get("created_from"):
            data["created_from"] = datetime.combine(data["created_from"], time.min, tzinfo=tz)
        if data.get("created_to"):
            data["created_to"] = datetime.combine(data["created_to"], time.max, tzinfo=tz)
        return data


class ParseConfigForm(forms.Form):
    """The upload page's processing panel: ParseConfiguration (API_CONTRACT §8.1) field for field."""

    segmentation_strategy = forms.ChoiceField(
        choices=[("LayoutAnalysis", "Layout analysis"), ("Page", "Whole page")], initial="LayoutAnalysis"
    )
    ocr_strategy = forms.ChoiceField(
        choices=[("All", "OCR every page"), ("Auto", "Only pages without a text layer")], initial="All"
    )
    target_length = forms.IntegerField(min_value=0, max_value=2**31 - 1, initial=4096)
    tokenizer = forms.ChoiceField(choices=_choices(TOKENIZER_ENUMS), initial="Word")
    tokenizer_custom = forms.CharField(required=False, max_length=200, strip=True)
    ignore_headers_and_footers = forms.BooleanField(required=False)
    error_handling = forms.ChoiceField(
        choices=[("Fail", "Fail the task"), ("Continue", "Skip the page and continue")], initial="Fail"
    )
    expires_in = forms.ChoiceField(required=False, choices=RETENTION_CHOICES, initial="")

    SEGMENT_FIELDS = {
        "format": ("Html", "Markdown"),
        "strategy": ("Auto", "LLM", "Ignore"),
        "crop_image": ("Auto", "All"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for segment_type in SEGMENT_PROCESSING_KEYS:
            defaults = default_generation(segment_type)
            for name, values in self.SEGMENT_FIELDS.items():
                self.fields[f"sp_{segment_type}_{name}"] = forms.ChoiceField(
                    choices=_choices(values), initial=getattr(defaults, name)
                )
        for field in self.fields.values():
            # A client that leaves a setting out gets its default, as the API does.
            field.required = False

    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            if cleaned.get(name) in (None, "") and field.initial not in (None, "") and name not in self.errors:
                cleaned[name] = field.initial
        return cleaned

    @classmethod
    def initial_for(cls, configuration: dict | None) -> dict:
        """Form initial values from a resolved ParseConfiguration (a saved preset)."""
        if not configuration:
            return {}
        chunk = configuration.get("chunk_processing") or {}
        tokenizer = chunk.get("tokenizer") or {"Enum": "Word"}
        initial = {
            "segmentation_strategy": configuration.get("segmentation_strategy"),
            "ocr_strategy": configuration.get("ocr_strategy"),
            "error_handling": configuration.get("error_handling"),
            "target_length": chunk.get("target_length"),
            "tokenizer": tokenizer.get("Enum", "Word"),
            "tokenizer_custom": tokenizer.get("String", ""),
            "ignore_headers_and_footers": bool(chunk.get("ignore_headers_and_footers")),
        }
        for segment_type, generation in (configuration.get("segment_processing") or {}).items():
            for name in cls.SEGMENT_FIELDS:
                if generation and generation.get(name):
                    initial[f"sp_{segment_type}_{name}"] = generation[name]
        return {k: v for k, v in initial.items() if v is not None}

    def configuration(self) -> dict:
        """The ParseConfiguration request dict; call after is_valid()."""
        data = self.cleaned_data
        tokenizer = {"String": data["tokenizer_custom"]} if data["tokenizer_custom"] else {"Enum": data["tokenizer"]}
        return {
            "segmentation_strategy": data["segmentation_strategy"],
            "ocr_strategy": data["ocr_strategy"],
            "error_handling": data["error_handling"],
            "chunk_processing": {
                "target_length": data["target_length"],
                "tokenizer": tokenizer,
                "ignore_headers_and_footers": data["ignore_headers_and_footers"] or None,
            },
            "segment_processing": {
                segment_type: {name: data[f"sp_{segment_type}_{name}"] for name in self.SEGMENT_FIELDS}
                for segment_type in SEGMENT_PROCESSING_KEYS
            },
        }

    def retention_seconds(self) -> int | None:
        """None: the workspace default; 0: keep forever (task_create_parse reads 0 as no expiry)."""
        value = self.cleaned_data.get("expires_in")
        return int(value) if value not in (None, "") else None

    def segment_rows(self):
        """(type, [bound fields]) per segment type, for the per-type table."""
        return [
            (segment_type, [self[f"sp_{segment_type}_{name}"] for name in self.SEGMENT_FIELDS])
            for segment_type in SEGMENT_PROCESSING_KEYS
        ]

    def first_error(self) -> str:
        for name, errors in self.errors.items():
            label = name.removeprefix("sp_").replace("_", " ")
            return f"{label}: {errors[0]}"
        return ""


# Settings › Retention's choices: label -> seconds (None: keep forever); "Custom" takes any number of hours.
RETENTION_PRESETS: list[tuple[str, int | None]] = [
    ("Never", None),
    ("1 hour", 3600),
    ("24 hours", 86400),
    ("7 days", 7 * 86400),
    ("30 days", 30 * 86400),
]
MAX_EXPIRES_IN = 2**31 - 1  # the contract's int32


def retention_label(seconds: int | None) -> str:
    """A retention in words: "forever", "24 hours", "36 hours", "90 seconds"."""
    if not seconds:
        return "forever"
    for label, value in RETENTION_PRESETS:
        if value == seconds:
            return label
    if seconds % 86400 == 0:
        return f"{seconds // 86400} days"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    return f"{seconds} seconds"


class RetentionForm(forms.Form):
    """Settings › Retention: the default `expires_in` for new tasks, and zero data retention."""

    CUSTOM = "custom"
    default = forms.ChoiceField(
        choices=[("", "Never")] + [(str(s), label) for label, s in RETENTION_PRESETS if s] + [(CUSTOM, "Custom…")],
        required=False,
    )
    custom_hours = forms.IntegerField(required=False, min_value=1, max_value=MAX_EXPIRES_IN // 3600)
    zdr = forms.BooleanField(required=False)
    zdr_trigger = forms.ChoiceField(choices=ZdrTrigger.choices, initial=ZdrTrigger.FIRST, widget=forms.RadioSelect)

    @classmethod
    def for_workspace(cls, workspace) -> RetentionForm:
        seconds = workspace.default_expires_in
        presets = {s for _, s in RETENTION_PRESETS if s}
        initial = {"zdr": workspace.zdr_enabled, "zdr_trigger": workspace.zdr_trigger}
        if seconds is None:
            initial["default"] = ""
        elif seconds in presets:
            initial["default"] = str(seconds)
        else:
            initial |= {"default": cls.CUSTOM, "custom_hours": max(1, round(seconds / 3600))}
        return cls(initial=initial)

    def clean(self):
        data = super().clean()
        if data.get("default") == self.CUSTOM and not data.get("custom_hours"):
            self.add_error("custom_hours", "Give the number of hours to keep results for.")
        return data

    def expires_in(self) -> int | None:
        """Seconds, or None to keep forever."""
        choice = self.cleaned_data.get("default")
        if choice == self.CUSTOM:
            return self.cleaned_data["custom_hours"] * 3600
        return int(choice) if choice else None
