"""The compliance page: uploading a bill of materials in each format, located errors for a
bad bill, the size cap, and the sample bills it offers (equal to the documented templates)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from bmtc.compliance.bom import read_bom
from bmtc.server.limits import MAX_BODY_BYTES
from tests.web_support import client

__all__ = ["client"]

TEMPLATES = Path(__file__).parents[1] / "docs" / "templates" / "compliance"
MEDIA = {"json": "application/json", "csv": "text/csv",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}




def upload(client: TestClient, name: str, content: bytes, year: str = "2026") -> Response:
    media = MEDIA.get(name.rpartition(".")[2], "application/octet-stream")
    answer: Response = client.post("/compliance", files={"bill": (name, content, media)},
                                   data={"year": year})
    return answer


def error_block(html: str) -> str:
    found = re.search(r'<div class="error" role="alert">.*?</div>', html, flags=re.S)
    assert found is not None, "no error block"
    return found.group(0)


def test_form_offers_upload_and_samples(client: TestClient) -> None:
    page = client.get("/compliance")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and 'type="file" name="bill"' in page.text
    assert 'accept=".json,.csv,.xlsx"' in page.text
    for fmt in ("json", "csv", "xlsx"):
        assert f'href="/compliance/sample.{fmt}"' in page.text
    assert "csrf_token" not in page.text


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_samples_equal_the_documented_templates(client: TestClient, tmp_path: Path,
                                                fmt: str) -> None:
    served = client.get(f"/compliance/sample.{fmt}")
    assert served.status_code == 200
    assert "attachment" in served.headers["content-disposition"]
    copy = tmp_path / f"module-45x.{fmt}"
    copy.write_bytes(served.content)
    documented = read_bom(TEMPLATES / f"module-45x.{fmt}")
    assert read_bom(copy).model_dump(exclude={"file"}) == documented.model_dump(
        exclude={"file"})
    if fmt == "json":
        assert json.loads(served.content) == json.loads(
            (TEMPLATES / "module-45x.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_sample_bill_passes_at_76_percent(client: TestClient, fmt: str) -> None:
    page = upload(client, f"module-45x.{fmt}", (TEMPLATES / f"module-45x.{fmt}").read_bytes())
    assert page.status_code == 200, page.text
    assert '<span class="badge pass">PASS</span>' in page.text
    assert ">76.0%<" in page.text and ">60%<" in page.text and "MACR-3-2026" in page.text
    assert ">+16.0<" in page.text
    assert "Lines that would flip the verdict: 1." in page.text
    assert "lg-energy-solution" in page.text  # suppliers resolved to atlas parties
    assert "<code>MACR-3-2026</code>" in page.text  # rules used, with citations


def test_malformed_bill_is_refused_with_located_problems(client: TestClient) -> None:
    bad = (b"kind,id,name,type,line,description,direct_cost,country_of_origin\n"
           b"product,p,P,battery_cell,,,,\n"
           b"component,,,,1,cells,-5,US\n"
           b"component,,,,2,tabs,3,Atlantis\n")
    page = upload(client, "bad.csv", bad)
    assert page.status_code == 422
    block = error_block(page.text)
    assert "bad.csv, table components, row 3, direct_cost" in block
    assert "bad.csv, table components, row 4, country_of_origin" in block
    assert "badge pass" not in page.text


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bill.txt", b"hello", "is not a bill of materials"),
    ("bill.csv", "kind,id\nproduct,\xe9".encode("latin-1"), "is not UTF-8 text"),
    ("bill.xlsx", b"not a workbook", "is not a readable Excel workbook"),
    ("bill.json", b"{", "is not valid JSON"),
])
def test_unreadable_files_are_explained(client: TestClient, name: str, content: bytes,
                                        message: str) -> None:
    page = upload(client, name, content)
    assert page.status_code == 422
    assert message in error_block(page.text)


def test_year_the_bill_contradicts_is_explained(client: TestClient) -> None:
    page = upload(client, "module-45x.json", (TEMPLATES / "module-45x.json").read_bytes(),
                  year="2027")
    assert page.status_code == 422
    assert "sale_date is 2026-09-30, but the year asked is 2027" in error_block(page.text)


def test_missing_file_and_bad_year_are_explained(client: TestClient) -> None:
    page = client.post("/compliance", data={"year": "1999"})
    assert page.status_code == 422
    block = error_block(page.text)
    assert "Choose a bill of materials file" in block and "Year: choose one of" in block


def test_uploaded_names_are_escaped(client: TestClient) -> None:
    page = upload(client, "<img src=x onerror=alert(1)>.csv", b"kind\nnonsense\n")
    assert page.status_code == 422
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in page.text


def test_oversized_upload_is_refused_with_413(client: TestClient) -> None:
    page = upload(client, "huge.json", b" " * (MAX_BODY_BYTES + 1))
    assert page.status_code == 413
    assert "too large" in page.text.lower()
    assert page.headers["content-type"].startswith("text/html")


def test_malformed_uploads_get_a_page_not_a_crash(client: TestClient) -> None:
    sample = (TEMPLATES / "module-45x.json").read_bytes()
    two = client.post("/compliance", data={"year": "2026"}, files=[
        ("bill", ("a.json", sample, "application/json")),
        ("bill", ("b.json", sample, "application/json"))])
    assert two.status_code == 400 and "The upload could not be read" in two.text
    broken = client.post("/compliance", content=b"--x\r\nnonsense",
                         headers={"Content-Type": "multipart/form-data"})
    assert broken.status_code == 400
    assert broken.headers["content-type"].startswith("text/html")
