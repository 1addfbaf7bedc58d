"""The fraud-type vocabulary is defined once (fanzha.detect.taxonomy) and its words read back as the same type."""

from fanzha.detect.taxonomy import FRAUD_TYPE_ALIASES, FRAUD_TYPE_LABELS, FRAUD_TYPE_NAMES, FRAUD_TYPES
from fanzha.warnings.enums import lookup


def test_the_labels_and_names_cover_the_same_types_in_the_same_order():
    assert tuple(FRAUD_TYPE_LABELS) == FRAUD_TYPES
    assert tuple(FRAUD_TYPE_NAMES) == FRAUD_TYPES
    assert set(FRAUD_TYPE_ALIASES.values()) <= set(FRAUD_TYPES)


def test_what_an_export_writes_imports_as_the_same_type():
    """A list or export shows the short label (刷单返利) and a letter the full name (刷单返利类); a file that carries
    either back in is read as the type it came from."""
    for key in FRAUD_TYPES:
        assert lookup(FRAUD_TYPE_ALIASES, FRAUD_TYPE_LABELS[key]) == key, FRAUD_TYPE_LABELS[key]
        assert lookup(FRAUD_TYPE_ALIASES, FRAUD_TYPE_NAMES[key]) == key, FRAUD_TYPE_NAMES[key]
