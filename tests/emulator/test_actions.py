"""Every action through the in-process transport: envelopes, fields, section 6 behaviours."""

from __future__ import annotations

import json
import re

from pytest_agentbay.emulator import Emulator, ImageSpec

from .conftest import KEY, Api, FakeSandbox


def test_create_returns_ids_shaped_like_the_service(api: Api) -> None:
    body = api.ok("CreateMcpSession", ImageId="linux_latest", Labels='{"project": "demo"}',
                  LoginRegionId="cn-hangzhou", SdkStats='{"source":"sdk"}')
    data = body["Data"]
    assert re.fullmatch(r"session-[a-z0-9]{17}", data["SessionId"])
    assert re.fullmatch(r"p-[a-z0-9]+", data["ResourceId"])
    assert data["AppInstanceId"].startswith("ai-")
    assert f"resourceId={data['ResourceId']}" in data["ResourceUrl"]
    assert re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}",
                        body["RequestId"])
    # No side channels (protocol 3.12): everything must stay on the POP API.
    assert not {"LinkUrl", "Token", "ToolList"} & set(data)
    assert data.get("VpcResource") is not True


def test_seeded_ids_repeat_whatever_requests_came_between() -> None:
    def first_two(polls: int) -> list[str]:
        emu = Emulator(seed=1, sandbox_factory=FakeSandbox)
        ids = []
        for _ in range(2):
            reply = emu.handle({"Action": "CreateMcpSession", "Authorization": "Bearer k"})
            ids.append(reply.body["Data"]["SessionId"])
            for _ in range(polls):
                emu.handle({"Action": "ListSession", "Authorization": "Bearer k"})
        return ids

    assert first_two(0) == first_two(5)
    other = Emulator(seed=2, sandbox_factory=FakeSandbox)
    reply = other.handle({"Action": "CreateMcpSession", "Authorization": "Bearer k"})
    assert reply.body["Data"]["SessionId"] != first_two(0)[0]


def test_mobile_resource_url_names_android(api: Api) -> None:
    session_id = api.create(ImageId="mobile_latest")
    url = api.ok("GetMcpResource", SessionId=session_id)["Data"]["ResourceUrl"]
    assert "android" in url and "mobile" in url


def test_unknown_image_names_it_and_lists_known_ones(api: Api) -> None:
    body = api.error("CreateMcpSession", 400, "InvalidImage.NotFound", ImageId="imgc-nope")
    assert "imgc-nope" in body["Message"] and "browser_latest" in body["Message"]


def test_custom_image_is_accepted_with_its_tools(emulator: Emulator, api: Api) -> None:
    emulator.images["imgc-custom"] = ImageSpec(tools=frozenset({"shell"}))
    session_id = api.create(ImageId="imgc-custom")
    assert api.tool(session_id, "shell", {"command": "true"})[1] is False
    text, is_error = api.tool(session_id, "get_metrics")
    assert is_error and "imgc-custom" in text and "shell" in text


def test_get_session_shows_status_and_ids(api: Api) -> None:
    session_id = api.create()
    data = api.ok("GetSession", SessionId=session_id)["Data"]
    assert data["SessionId"] == session_id and data["Status"] == "RUNNING"
    assert data["ResourceId"].startswith("p-") and data["AppInstanceId"].startswith("ai-")


def test_get_session_detail_reads_session_id_from_the_query(api: Api) -> None:
    session_id = api.create(ImageId="code_latest")
    response = api.post("GetSessionDetail", query={"SessionId": session_id})
    data = response.json()["Data"]
    assert data["Status"] == "RUNNING" and data["ImageId"] == "code_latest"


def test_list_filters_by_all_labels_status_and_pages(api: Api) -> None:
    a = api.create(Labels='{"team": "x", "env": "ci"}')
    b = api.create(Labels='{"team": "x", "env": "dev"}')
    c = api.create(Labels='{"team": "y"}')
    both = api.ok("ListSession", Labels='{"team": "x"}', MaxResults="10")
    assert [i["SessionId"] for i in both["Data"]] == [a, b]
    assert both["TotalCount"] == 2 and both["NextToken"] == "" and both["MaxResults"] == 10
    only_a = api.ok("ListSession", Labels='{"team": "x", "env": "ci"}')["Data"]
    assert [i["SessionId"] for i in only_a] == [a]
    assert set(only_a[0]) == {"SessionId", "SessionStatus", "AppInstanceId", "ImageId"}
    api.ok("PauseSessionAsync", SessionId=c)
    pausing = api.ok("ListSession", Labels="{}", Status="PAUSING")["Data"]
    assert [i["SessionId"] for i in pausing] == [c]
    page1 = api.ok("ListSession", Labels="{}", MaxResults="2")
    assert len(page1["Data"]) == 2 and page1["NextToken"] and page1["TotalCount"] == 3
    page2 = api.ok("ListSession", Labels="{}", MaxResults="2", NextToken=page1["NextToken"])
    assert [i["SessionId"] for i in page2["Data"]] == [c] and page2["NextToken"] == ""


def test_list_rejects_a_token_it_did_not_issue(api: Api) -> None:
    api.error("ListSession", 400, "InvalidParameter", Labels="{}", NextToken="bogus!")


def test_labels_get_and_set(api: Api) -> None:
    session_id = api.create(Labels='{"a": "1"}')
    labels = api.ok("GetLabel", SessionId=session_id)["Data"]["Labels"]
    assert json.loads(labels) == {"a": "1"}
    api.ok("SetLabel", SessionId=session_id, Labels='{"b": "\\u540d"}')
    assert json.loads(api.ok("GetLabel", SessionId=session_id)["Data"]["Labels"]) == {"b": "名"}
    found = api.ok("ListSession", Labels='{"b": "名"}')["Data"]
    assert [i["SessionId"] for i in found] == [session_id]


def test_get_mcp_resource_has_desktop_info(api: Api) -> None:
    session_id = api.create()
    data = api.ok("GetMcpResource", SessionId=session_id)["Data"]
    assert data["SessionId"] == session_id and data["ResourceUrl"].startswith("https://")
    assert data["DesktopInfo"]["ResourceType"] == "AIAgent"
    assert data["DesktopInfo"]["ResourceId"].startswith("p-")


def test_get_link_gives_a_url_and_checks_the_port(api: Api) -> None:
    session_id = api.create()
    url = api.ok("GetLink", SessionId=session_id, ProtocolType="wss", Port="30150")["Data"]["Url"]
    assert url.startswith("wss://") and "30150" in url
    assert api.ok("GetLink", SessionId=session_id)["Data"]["Url"].startswith("https://")
    api.error("GetLink", 400, "InvalidParameter", SessionId=session_id, Port="8080")


def test_init_browser_gives_a_port_only_on_browser_images(api: Api) -> None:
    browser = api.create(ImageId="browser_latest")
    option = '{"useStealth": false, "solveCaptchas": false}'
    data = api.ok("InitBrowser", SessionId=browser, BrowserOption=option,
                  PersistentPath="/tmp/agentbay_browser")["Data"]
    assert isinstance(data["Port"], int)
    linux = api.create(ImageId="linux_latest")
    api.error("InitBrowser", 400, "InvalidImage.BrowserNotSupported", SessionId=linux)
    api.error("InitBrowser", 400, "InvalidParameter", SessionId=browser, BrowserOption="{bad")


def test_context_sync_and_info(api: Api) -> None:
    persistence = json.dumps([{"ContextId": "ctx-1", "Path": "/home/data"}])
    session_id = api.create(PersistenceDataList=persistence)
    status = api.ok("GetContextInfo", SessionId=session_id)["Data"]["ContextStatus"]
    items = json.loads(json.loads(status)[0]["data"])
    assert items[0]["contextId"] == "ctx-1" and items[0]["status"] == "Success"
    assert items[0]["taskType"] == "download"
    response = api.post("SyncContext", key=None, query={"Authorization": f"Bearer {KEY}"},
                        SessionId=session_id, ContextId="ctx-1", Path="/home/data", Mode="upload")
    assert response.status_code == 200 and response.json()["Success"] is True
    uploads = api.ok("GetContextInfo", SessionId=session_id, TaskType="upload")["Data"]
    assert json.loads(json.loads(uploads["ContextStatus"])[0]["data"])[0]["status"] == "Success"


def test_context_info_is_empty_without_contexts(api: Api) -> None:
    session_id = api.create()
    assert api.ok("GetContextInfo", SessionId=session_id)["Data"]["ContextStatus"] == ""


def test_get_metrics_reports_this_machine(api: Api) -> None:
    session_id = api.create()
    metrics, is_error = api.tool(session_id, "get_metrics")
    assert not is_error
    assert metrics["cpu_count"] >= 1 and metrics["mem_total"] > 0 and metrics["disk_total"] > 0
    assert 0 <= metrics["cpu_used_pct"] <= 100 and metrics["timestamp"]


def test_unknown_tool_is_a_tool_error(api: Api) -> None:
    session_id = api.create()
    text, is_error = api.tool(session_id, "no_such_tool")
    assert is_error and "no_such_tool" in text
