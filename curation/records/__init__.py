"""The record types (Problem, Seed, Trace, Response, Result, AnswerSpec), their Features, IO and interop.

The Features and IO names load ``datasets``/``pyarrow`` on first use only, so that verifier workers, which
import ``curation.records.answer``, do not pay for them.
"""

import importlib
from typing import TYPE_CHECKING, Any

from curation.records.answer import (
    AnswerSpec,
    CategoricalAnswer,
    CodeAnswer,
    CodeArgument,
    CodeTestCase,
    FieldError,
    NumericAnswer,
    SymbolicAnswer,
    TupleAnswer,
    answer_from_dict,
)
from curation.records.ids import normalize_text, problem_id, seed_id, trace_id
from curation.records.interop import (
    problem_from_paper_json,
    problem_from_tpbench_row,
    problem_to_paper_json,
    problem_to_tpbench_row,
)
from curation.records.problem import SOURCE_KINDS, Problem, Source
from curation.records.result import STATUSES, Response, Result
from curation.records.seed import Seed, SeedSource
from curation.records.trace import ChatMessage, Trace

if TYPE_CHECKING:
    from curation.records.features import (
        PROBLEM_FEATURES,
        RESPONSE_FEATURES,
        RESULT_FEATURES,
        SEED_FEATURES,
        TRACE_FEATURES,
        answer_from_row,
        answer_to_row,
        problem_from_row,
        problem_to_row,
        response_from_row,
        response_to_row,
        result_from_row,
        result_to_row,
        seed_from_row,
        seed_to_row,
        trace_from_row,
        trace_to_row,
    )
    from curation.records.io import (
        RECORD_TYPES,
        JsonlAppender,
        ReadReport,
        RecordError,
        features_for,
        read_jsonl,
        read_parquet,
        read_records,
        write_jsonl,
        write_parquet,
        write_records,
    )

_LAZY_MODULES = {
    "PROBLEM_FEATURES": "curation.records.features",
    "RESPONSE_FEATURES": "curation.records.features",
    "RESULT_FEATURES": "curation.records.features",
    "SEED_FEATURES": "curation.records.features",
    "TRACE_FEATURES": "curation.records.features",
    "answer_from_row": "curation.records.features",
    "answer_to_row": "curation.records.features",
    "problem_from_row": "curation.records.features",
    "problem_to_row": "curation.records.features",
    "response_from_row": "curation.records.features",
    "response_to_row": "curation.records.features",
    "result_from_row": "curation.records.features",
    "result_to_row": "curation.records.features",
    "seed_from_row": "curation.records.features",
    "seed_to_row": "curation.records.features",
    "trace_from_row": "curation.records.features",
    "trace_to_row": "curation.records.features",
    "RECORD_TYPES": "curation.records.io",
    "JsonlAppender": "curation.records.io",
    "ReadReport": "curation.records.io",
    "RecordError": "curation.records.io",
    "features_for": "curation.records.io",
    "read_jsonl": "curation.records.io",
    "read_parquet": "curation.records.io",
    "read_records": "curation.records.io",
    "write_jsonl": "curation.records.io",
    "write_parquet": "curation.records.io",
    "write_records": "curation.records.io",
}

__all__ = [
    "PROBLEM_FEATURES",
    "RECORD_TYPES",
    "RESPONSE_FEATURES",
    "RESULT_FEATURES",
    "SEED_FEATURES",
    "SOURCE_KINDS",
    "STATUSES",
    "TRACE_FEATURES",
    "AnswerSpec",
    "CategoricalAnswer",
    "ChatMessage",
    "CodeAnswer",
    "CodeArgument",
    "CodeTestCase",
    "FieldError",
    "JsonlAppender",
    "NumericAnswer",
    "Problem",
    "ReadReport",
    "RecordError",
    "Response",
    "Result",
    "Seed",
    "SeedSource",
    "Source",
    "SymbolicAnswer",
    "Trace",
    "TupleAnswer",
    "answer_from_dict",
    "answer_from_row",
    "answer_to_row",
    "features_for",
    "normalize_text",
    "problem_from_paper_json",
    "problem_from_row",
    "problem_from_tpbench_row",
    "problem_id",
    "problem_to_paper_json",
    "problem_to_row",
    "problem_to_tpbench_row",
    "read_jsonl",
    "read_parquet",
    "read_records",
    "response_from_row",
    "response_to_row",
    "result_from_row",
    "result_to_row",
    "seed_from_row",
    "seed_id",
    "seed_to_row",
    "trace_from_row",
    "trace_id",
    "trace_to_row",
    "write_jsonl",
    "write_parquet",
    "write_records",
]


def __getattr__(name: str) -> Any:
    """Load the Features and IO names on first use."""
    module = _LAZY_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
