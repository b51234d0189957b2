"""Schemathesis against the REST API's own OpenAPI schema (``api/openapi.py``).

Every operation, with valid and invalid parameters, through Django's real WSGI
handler with an API token: no answer is a 5xx, and every answer has a status,
content type and body the schema documents.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from djinsight.api.openapi import schema as openapi_schema
from djinsight.models import ApiToken
from tests import analytics_data as data
from tests.fuzz.conftest import FUZZ, Tally

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # the fuzz suite takes ~40 s

BASE = "/djInsight/api/"  # where tests/urls.py mounts djinsight.urls
EXAMPLES = 50  # per operation and mode
CONFIG = SchemathesisConfig.from_dict(
    {"generation": {"with-security-parameters": False, "deterministic": True}}
)
SCHEMA = schemathesis.openapi.from_dict(openapi_schema(BASE), config=CONFIG)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

tally = Tally("OpenAPI schema (Schemathesis)")


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    tally.report()


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_api_answers_every_generated_request_without_a_server_error(wsgi_app, operation, mode):
    data.build()
    token = ApiToken.generate("fuzz")[1]
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS

    @settings(FUZZ, max_examples=EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(app=wsgi_app, headers={"Authorization": f"Bearer {token}"})
        tally.add(response.status_code, f"{case.method} {case.formatted_path} {case.query}")
        case.validate_response(response, checks=checks)

    try:
        run()
    except Unsatisfiable:  # no invalid value exists (plain string path parameters)
        assert mode is GenerationMode.NEGATIVE
    assert not tally.server_errors, tally.server_errors
