"""Open311 over real HTTP: a form POST with urllib, then the ``georeport`` client from PyPI reads it back.

The client only reads (services, a service definition, requests); it has no call to create a request.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
import requests
from georeport import GeoReport

from categories.models import Category
from open311.keys import create_key
from orders.models import WorkOrder

JURISDICTION = "a-city.12345.gov.cn"
LEAF = "城乡建设 › 城市建设和市政管理 › 城市公共设施"

# The server thread needs committed rows; serialized_rollback brings back the request types the migrations made.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def form_post(url: str, fields: dict[str, str]) -> tuple[int, bytes]:
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def posted(live_server, city, categories) -> dict:
    """One request POSTed to the running server, as another system would."""
    leaf = Category.objects.get(full_name=LEAF)
    base = f"{live_server.url}/open311/v2"
    status, body = form_post(
        f"{base}/requests.json",
        {
            "jurisdiction_id": JURISDICTION,
            "api_key": create_key("市民通 App")[1],
            "service_code": str(leaf.pk),
            "lat": "28.1941",
            "long": "112.9823",
            "address_string": "一区一街道幸福小区东门",
            "description": "幸福小区东门的路灯坏了半个月，晚上很黑。",
            "first_name": "小明",
            "last_name": "王",
            "phone": "13900139000",
        },
    )
    assert status == 201, body
    [item] = json.loads(body)
    return {"base": base, "leaf": leaf, "number": item["service_request_id"], "token": item["token"]}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_services_definition_and_the_posted_request(posted, fmt):
    client = GeoReport(posted["base"], jurisdiction=JURISDICTION, output_format=fmt)
    leaf, number = posted["leaf"], posted["number"]

    services = client.get_service_list()
    assert len(services) == Category.objects.leaves().active().count()
    service = next(s for s in services if s["service_code"] == str(leaf.pk))
    assert (service["service_name"], service["group"], service["type"]) == ("城市公共设施", "城乡建设", "realtime")

    definition = client.get_service_definition(str(leaf.pk))
    assert definition["service_code"] == str(leaf.pk)
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    assert [a["code"] for a in attributes] == ["request_type", "enterprise_name", "enterprise_credit_code"]

    request = client.get_service_request(number)
    assert request["service_request_id"] == number and request["status"] == "open"
    assert request["description"] == "幸福小区东门的路灯坏了半个月，晚上很黑。"
    assert request["address"] == "一区一街道幸福小区东门"
    assert float(request["lat"]) == 28.1941 and float(request["long"]) == 112.9823
    assert "phone" not in request and "13900139000" not in json.dumps(request, ensure_ascii=False)

    found = client.get_service_requests(service_request_id=number)
    found = found[0] if fmt == "json" else found  # xmltodict gives a single <request> as a dict
    assert found["service_request_id"] == number
    listed = client.get_service_requests(service_code=str(leaf.pk), status="open")
    listed = listed if fmt == "json" else [listed]
    assert [r["service_request_id"] for r in listed] == [number]
    assert WorkOrder.objects.get().number == number


def test_token_and_errors_over_http(posted):
    base = posted["base"]
    with urllib.request.urlopen(f"{base}/tokens/{posted['token']}.json", timeout=30) as response:
        assert json.load(response) == [{"service_request_id": posted["number"], "token": posted["token"]}]

    client = GeoReport(base, jurisdiction=JURISDICTION)
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_definition("999999")
    assert caught.value.response.status_code == 404
    assert caught.value.response.json()[0]["code"] == 404
    with pytest.raises(requests.HTTPError) as caught:
        GeoReport(base, jurisdiction="b-city.gov.cn", output_format="xml").get_service_list()
    refused = caught.value.response
    assert refused.status_code == 404 and b"<errors><error><code>404</code>" in refused.content

    status, body = form_post(f"{base}/requests.xml", {"service_code": str(posted["leaf"].pk)})
    assert status == 403 and b"<code>403</code>" in body
    assert WorkOrder.objects.count() == 1
