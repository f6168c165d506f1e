"""The OpenAPI document as a generated client reads it: stable operation ids, tags that
are declared, examples that are valid documents, and a page for every problem type."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.examples import example
from api.problems import PROBLEM_TYPES, Problem
from newsflow.contract import Accepted, ArticleDocument, Submission
from newsflow.settings import Settings

API_FOLDER = Path(__file__).parents[3] / "api"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    # no server is contacted: the clients connect on first use
    settings = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0")
    return create_app(settings).openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_operation_ids_are_stable_names_unique_across_the_document(
    document: dict[str, Any],
) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for method, path, operation in operations(document):
        # FastAPI's default appends the path and method: submit_article_v1_articles_post
        assert re.fullmatch(r"[a-z][a-z0-9_]*", operation["operationId"]), (method, path)
        assert not operation["operationId"].endswith(f"_{method.lower()}"), (method, path)
    by_route = {(m, p): o["operationId"] for m, p, o in operations(document)}
    assert by_route[("POST", "/v1/articles")] == "submit_article"
    assert by_route[("GET", "/v1/articles")] == "list_articles"
    assert by_route[("GET", "/v1/articles/{article_id}")] == "get_article"


def test_every_operation_has_a_declared_tag(document: dict[str, Any]) -> None:
    declared = {tag["name"]: tag.get("description") for tag in document["tags"]}
    assert all(declared.values()), declared
    for method, path, operation in operations(document):
        assert operation.get("tags"), (method, path)
        assert set(operation["tags"]) <= set(declared), (method, path, operation["tags"])


def test_the_examples_are_valid_documents_of_the_contract(document: dict[str, Any]) -> None:
    submission = Submission.model_validate(example("submission"))
    assert "Landsbergis" in (submission.text or "")
    Accepted.model_validate(example("accepted"))
    article = ArticleDocument.model_validate(example("article"))
    assert article.status == "done"
    assert any(e.canonical == "Gabrielius Landsbergis" for e in article.entities or ())

    submit = document["paths"]["/v1/articles"]["post"]
    body = submit["requestBody"]["content"]["application/json"]
    assert body["examples"]["submission"]["value"] == example("submission")
    assert submit["responses"]["202"]["content"]["application/json"]["example"] == example(
        "accepted"
    )
    get = document["paths"]["/v1/articles/{article_id}"]["get"]
    # the document leaves out null members (FastAPI encodes it with exclude_none)
    shown = get["responses"]["200"]["content"]["application/json"]["example"]
    assert shown == without_nulls(example("article"))


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def _literal_titles() -> list[tuple[str, int, str, int | None]]:
    """(file, line, title, status) of every problem the API's code raises with a
    literal title: ProblemError(status, "title", …), Problem(title=…, status=…)."""
    found = []
    for path in sorted(API_FOLDER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            title: Any = None
            status: Any = None
            if name == "ProblemError" and len(node.args) >= 2:
                status, title = node.args[0], node.args[1]
            elif name == "Problem":
                keywords = {k.arg: k.value for k in node.keywords}
                title, status = keywords.get("title"), keywords.get("status")
            elif name == "_refuse" and len(node.args) >= 5:  # the body limit's answers
                status, title = node.args[3], node.args[4]
            if isinstance(title, ast.Constant) and isinstance(title.value, str):
                code = status.value if isinstance(status, ast.Constant) else None
                assert code is None or isinstance(code, int)
                found.append((path.name, node.lineno, title.value, code))
    return found


def test_every_problem_the_api_raises_has_a_type_page() -> None:
    titles = _literal_titles()
    assert len(titles) > 20  # the scan finds the API's problems at all
    for file, line, title, status in titles:
        assert title in PROBLEM_TYPES, f"{file}:{line}: {title!r} has no problem type"
        if status is not None:
            assert status in PROBLEM_TYPES[title].statuses, f"{file}:{line}: {status}"


def test_a_problem_names_its_type_page_and_an_unknown_title_stays_about_blank() -> None:
    problem = Problem(title="Invalid request", status=422)
    assert problem.type == "/problems/invalid-request"
    assert Problem(title="Something new", status=400).type == "about:blank"
    assert Problem(type="https://example.org/x", title="Invalid request", status=422).type == (
        "https://example.org/x"
    )
