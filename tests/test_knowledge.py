"""Knowledge base: versions, expiry, search ranking (on whichever database the suite runs: SQLite and
PostgreSQL in CI), sanitised Markdown, public FAQ, seed content and the direct-answer path."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.roles import Role
from analytics import rollup
from knowledge import render, search, seed, workflow
from knowledge.models import Article, ArticleStatus, Kind, RevisionStatus, SearchDoc, SearchTerm, Synonym
from knowledge.workflow import Draft
from orders import transitions as t
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import Closure, OrderEvent, State, WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def editors(make_user):
    return {
        "admin": make_user(Role.ADMIN),
        "supervisor": make_user(Role.SUPERVISOR),
        "other_supervisor": make_user(Role.SUPERVISOR, username="supervisor-2"),
        "operator": make_user(Role.OPERATOR),
    }


def publish(title: str, summary: str = "标准答复口径。", body: str = "", **fields) -> Article:
    return workflow.publish(None, Draft(title=title, summary=summary, body=body, **fields))


def titles(query: str, **options) -> list[str]:
    return [hit.article.title for hit in search.search(query, **options)]


# --- versions -------------------------------------------------------------------------------------------


def test_a_draft_is_invisible_until_a_second_person_approves_it(editors):
    revision = workflow.create(editors["supervisor"], Draft(title="居住证办理指南", summary="带身份证到派出所办理。"))
    assert revision.number == 1 and revision.status == RevisionStatus.DRAFT
    assert titles("居住证") == []
    revision = workflow.submit(editors["supervisor"], revision)
    with pytest.raises(Forbidden):
        workflow.approve(editors["supervisor"], revision)  # not one's own work
    with pytest.raises(Forbidden):
        workflow.approve(editors["operator"], revision)
    article = workflow.approve(editors["other_supervisor"], revision)
    assert (article.status, article.version) == (ArticleStatus.PUBLISHED, 1)
    assert titles("居住证") == ["居住证办理指南"]


def test_an_edit_is_a_new_version_and_the_published_text_serves_until_it_is_approved(editors):
    author, reviewer = editors["supervisor"], editors["other_supervisor"]
    first = workflow.submit(author, workflow.create(author, Draft(title="公积金提取", summary="旧口径：到柜台办理。")))
    article = workflow.approve(reviewer, first)

    second = workflow.edit(
        author, article, Draft(title="住房公积金提取", summary="新口径：手机上办理。", note="改为线上")
    )
    assert second.number == 2
    article.refresh_from_db()
    assert article.summary == "旧口径：到柜台办理。" and article.version == 1
    assert titles("柜台") == ["公积金提取"] and titles("手机") == []

    second = workflow.submit(author, second)
    with pytest.raises(Conflict):
        workflow.edit(author, article, Draft(title="又改", summary="又改"))  # locked while in review
    with pytest.raises(InvalidInput) as refused:
        workflow.reject(reviewer, second, "")
    assert "review_note" in refused.value.errors
    second = workflow.reject(reviewer, second, "请写明网址")
    second = workflow.edit(author, article, Draft(title="住房公积金提取", summary="新口径：手机上办理，网址见正文。"))
    assert second.number == 2  # the rejected version is reworked, not a third one
    article = workflow.approve(reviewer, workflow.submit(author, second))

    assert (article.version, article.title) == (2, "住房公积金提取")
    assert [(r.number, r.status) for r in article.revisions.all()] == [
        (2, RevisionStatus.PUBLISHED),
        (1, RevisionStatus.SUPERSEDED),
    ]
    assert article.revisions.get(number=1).summary == "旧口径：到柜台办理。"
    assert titles("手机") == ["住房公积金提取"] and titles("柜台") == []


def test_withdrawn_article_leaves_search_and_term_counts(editors):
    article = publish("燃气开户办理", body="新房燃气开户需要预约上门。")
    assert SearchTerm.objects.get(term="燃气").df == 1
    workflow.withdraw(editors["admin"], article)
    assert titles("燃气开户") == []
    assert not SearchDoc.objects.filter(article=article).exists()
    assert SearchTerm.objects.get(term="燃气").df == 0
    assert article.revisions.count() == 1
    with pytest.raises(Conflict):
        workflow.withdraw(editors["admin"], article)


def test_invalid_drafts_name_every_wrong_field_and_write_nothing(editors):
    today = timezone.localdate()
    with pytest.raises(InvalidInput) as refused:
        workflow.create(
            editors["admin"],
            Draft(title=" ", summary="", kind="poem", valid_from=today, valid_to=today - timedelta(days=1)),
        )
    assert {"title", "summary", "kind", "valid_to"} <= set(refused.value.errors)
    assert not Article.objects.exists()
    with pytest.raises(InvalidInput) as refused:
        workflow.create(editors["admin"], Draft(title="标题", summary="口径", units=[99999]))
    assert "units" in refused.value.errors and not Article.objects.exists()


# --- expiry ---------------------------------------------------------------------------------------------


def test_expired_and_future_articles_disappear_from_results_but_stay_in_history(client, editors):
    today = timezone.localdate()
    expired = publish(
        "2025年稳岗返还政策", body="稳岗返还申请", valid_from=today - timedelta(days=400),
        valid_to=today - timedelta(days=1), is_public=True,
    )  # fmt: skip
    future = publish("2027年稳岗返还政策", body="稳岗返还申请", valid_from=today + timedelta(days=30), is_public=True)
    current = publish("稳岗返还常见问题", body="稳岗返还申请", is_public=True)
    assert titles("稳岗返还") == [current.title]
    assert set(Article.objects.in_force()) == {current}
    assert expired.is_expired and not expired.is_in_force()
    assert titles("稳岗返还", day=today - timedelta(days=2)) == [expired.title] or expired.title in titles(
        "稳岗返还", day=today - timedelta(days=2)
    )
    assert future.title in titles("稳岗返还", day=today + timedelta(days=31))

    assert client.get(f"/faq/{expired.pk}/").status_code == 404
    client.force_login(editors["operator"])
    assert client.get(f"/knowledge/{expired.pk}/").status_code == 404
    client.force_login(editors["admin"])
    page = client.get("/knowledge/?status=expired").content.decode()
    assert expired.title in page and current.title not in page
    assert "已过期" in client.get(f"/knowledge/{expired.pk}/").content.decode()


# --- search ---------------------------------------------------------------------------------------------


@pytest.fixture
def crafted(db):
    return {
        "title": publish("社保卡丢失补办", body="到任一社保服务网点办理。"),
        "body": publish("社会保障服务网点地址", body="各网点地址如下。社保卡补办、挂失均可在网点办理，也可线上补办。"),
        "once": publish("医保报销比例", body="住院报销比例见下表。社保卡可以直接结算。"),
        "other": publish("占道经营投诉", body="占道经营由城管部门处理。"),
        "enterprise": publish("企业社保登记", body="新办企业社保开户登记流程。", is_enterprise=True, kind=Kind.GUIDE),
    }


def test_title_matches_rank_above_body_matches_and_more_terms_above_fewer(crafted):
    found = titles("社保卡丢了怎么补办", limit=5)
    # title 社保卡 + 补办 > body 社保卡 + 补办 twice > a passing mention of 社保卡 or 社保 > nothing in common
    assert found[:2] == ["社保卡丢失补办", "社会保障服务网点地址"]
    assert set(found[2:]) == {"医保报销比例", "企业社保登记"}


def test_filters_by_kind_enterprise_and_public(crafted):
    assert titles("社保 登记", kinds=[Kind.GUIDE]) == ["企业社保登记"]
    assert titles("社保", enterprise=True) == ["企业社保登记"]
    assert "企业社保登记" not in titles("社保", enterprise=False)
    assert titles("社保", public=True) == []
    assert titles("社保", exclude_kinds=[Kind.FAQ]) == ["企业社保登记"]


def test_synonyms_find_articles_that_use_the_other_word(db):
    publish("天然气开户办理", body="天然气开户请带房产证。")
    assert titles("煤气") == []
    Synonym.objects.create(words="天然气 煤气 燃气")
    hits = search.search("家里煤气怎么开通")
    assert [h.article.title for h in hits] == ["天然气开户办理"]
    assert "<mark>天然气</mark>" in hits[0].title


def test_snippets_mark_the_words_and_escape_the_rest(db):
    publish("路灯报修", body="<b>夜间</b>路灯不亮，请说明所在道路 & 门牌，维修单位在 24 小时内处理路灯故障。")
    (hit,) = search.search("路灯坏了")
    assert "<mark>路灯</mark>" in hit.snippet
    assert "<b>" not in hit.snippet and "夜间" in hit.snippet and "道路 &amp; 门牌" in hit.snippet


@pytest.mark.parametrize(
    "query",
    [
        "", "   ", "\x00", "x" * 100_000, "社保" * 50_000, "\"'; DROP TABLE knowledge_article; --",
        "社保 AND OR NOT NEAR(", "社保 & | ! ( ) : * <-> \\", "😀🎉", "<script>alert(1)</script>", "%_%",
        "社保卡\n补办\t",
    ],
)  # fmt: skip
def test_any_query_returns_results_or_nothing_never_an_error(crafted, client, editors, query):
    hits = search.search(query)
    assert isinstance(hits, list)
    assert client.get("/faq/", {"q": query[:5000]}).status_code == 200
    client.force_login(editors["operator"])
    assert client.get("/knowledge/", {"q": query[:5000]}).status_code == 200
    response = client.get("/api/knowledge/search", {"q": query[:1000]})
    assert response.status_code in (200, 422)


def test_long_question_is_cut_to_the_rarest_terms(crafted, monkeypatch):
    monkeypatch.setattr(search, "MAX_TERMS", 2)
    chosen = search.choose_terms(search.terms("社保卡 补办 网点 占道经营"))
    assert len(chosen) == 2
    assert SearchTerm.objects.get(term=chosen[0]).df <= SearchTerm.objects.get(term=chosen[1]).df


def test_rebuild_gives_the_same_index(crafted):
    before = sorted(SearchTerm.objects.filter(df__gt=0).values_list("term", "df"))
    assert search.rebuild() == 5
    assert sorted(SearchTerm.objects.values_list("term", "df")) == before
    assert titles("社保卡丢了怎么补办")[0] == "社保卡丢失补办"


# --- Markdown and the public pages ----------------------------------------------------------------------


def test_markdown_is_sanitised():
    html = render.to_html(
        "## 标题\n\n<script>alert(1)</script>\n\n[点我](javascript:alert(1)) <img src=x onerror=alert(1)>"
        '\n\n<a href="https://example.org" onclick="steal()">链接</a>'
    )
    assert "<h2>标题</h2>" in html
    for bad in ("<script", "javascript:", "onerror", "onclick", "<img"):
        assert bad not in html
    assert 'href="https://example.org"' in html


def test_guide_steps_and_public_part():
    body = (
        "## 办理步骤\n\n1. 网上预约\n2. 携带材料到窗口\n3. 领取证件\n\n## 所需材料\n\n- 身份证"
        "\n\n## 内部提示\n\n系统常卡顿"
    )
    assert render.steps(body) == ["网上预约", "携带材料到窗口", "领取证件"]
    assert "系统常卡顿" not in render.public_part(body) and "身份证" in render.public_part(body)


def test_public_faq_lists_searches_and_shows_only_public_articles_without_internal_notes(client):
    public = publish(
        "社保卡补办指南", kind=Kind.GUIDE, is_public=True,
        body="## 办理步骤\n\n1. 挂失\n2. 补办\n\n## 内部提示\n\n制卡系统每周二维护",
    )  # fmt: skip
    internal = publish("社保卡制卡内部流程", body="社保卡内部流程")
    case = publish("社保卡案例", kind=Kind.CASE, is_public=True, body="社保卡")
    page = client.get("/faq/").content.decode()
    assert public.title in page and internal.title not in page and case.title not in page
    results = client.get("/faq/", {"q": "社保卡 制卡系统"}).content.decode()
    assert f'href="/faq/{public.pk}/"' in results and f"/faq/{internal.pk}/" not in results
    assert "制卡系统每周二维护" not in results
    detail = client.get(f"/faq/{public.pk}/").content.decode()
    assert "挂失" in detail and "步骤导航" in detail and "制卡系统每周二维护" not in detail and "内部提示" not in detail
    assert client.get(f"/faq/{internal.pk}/").status_code == 404
    assert client.get(f"/faq/{case.pk}/").status_code == 404


# --- staff pages ----------------------------------------------------------------------------------------


def test_editor_writes_submits_and_a_reviewer_publishes_through_the_pages(client, editors):
    client.force_login(editors["supervisor"])
    response = client.post(
        "/knowledge/new/",
        {"kind": "faq", "title": "如何查询工单进度", "summary": "凭受理编号查询。", "body": "", "tags": "进度",
         "valid_from": "", "valid_to": "", "note": "", "submit": "1"},
    )  # fmt: skip
    article = Article.objects.get(title="如何查询工单进度")
    assert response.status_code == 302 and article.revisions.get().status == RevisionStatus.REVIEW
    bad = client.post("/knowledge/new/", {"kind": "faq", "title": "", "summary": "", "valid_to": "x"})
    assert bad.status_code == 200 and "请填写标题" in bad.content.decode() or "必填" in bad.content.decode()
    assert Article.objects.count() == 1

    client.force_login(editors["other_supervisor"])
    assert "如何查询工单进度" in client.get("/knowledge/reviews/").content.decode()
    client.post(f"/knowledge/{article.pk}/review/", {"decision": "approve", "review_note": "可以"})
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    assert f'href="/knowledge/{article.pk}/"' in client.get("/knowledge/", {"q": "工单进度"}).content.decode()


def test_operators_read_but_cannot_write(client, editors):
    article = publish("公交卡充值网点", body="各地铁站均可充值。")
    client.force_login(editors["operator"])
    assert client.get(f"/knowledge/{article.pk}/").status_code == 200
    assert client.get("/knowledge/new/").status_code == 403
    assert client.post(f"/knowledge/{article.pk}/withdraw/").status_code == 403
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED


def test_api_search_and_read(client, editors, crafted):
    client.force_login(editors["operator"])
    found = client.get("/api/knowledge/search", {"q": "社保卡补办", "limit": 2}).json()
    assert [hit["title"] for hit in found] == ["社保卡丢失补办", "社会保障服务网点地址"]
    assert "<mark>" in found[0]["snippet"]
    article = client.get(f"/api/knowledge/articles/{found[0]['id']}").json()
    assert article["summary"] == "标准答复口径。"
    assert client.get("/api/knowledge/articles/999999").status_code == 404


# --- seed -----------------------------------------------------------------------------------------------


def test_seed_articles_and_cases_load_once(db):
    from demo.loader import load_demo

    load_demo()
    counts = seed.load(cases=30)
    files = list(seed.ARTICLES.glob("*.md"))
    assert counts == {"articles": len(files), "cases": 30}
    assert len(files) >= 25
    assert Article.objects.filter(kind=Kind.GUIDE).count() >= 5
    assert Article.objects.filter(is_enterprise=True).exists()
    assert Article.objects.filter(is_public=True).count() >= 15
    assert Article.objects.filter(source__startswith="seed:", units__isnull=False).distinct().count() == len(files)
    assert Synonym.objects.exists()
    assert seed.load(cases=30) == {"articles": 0, "cases": 0}
    case = Article.objects.filter(kind=Kind.CASE).first()
    assert case.summary and "## 答复" in case.body and case.source.startswith("留言")
    assert search.search(case.title, kinds=[Kind.CASE])[0].article == case


def test_a_case_shows_its_reply_once_and_an_article_its_summary(client, db):
    from accounts.models import User
    from demo.loader import load_demo

    load_demo()
    seed.load(cases=5)
    client.force_login(User.objects.get(username="operator"))
    case = Article.objects.filter(kind=Kind.CASE).first()
    html = client.get(f"/knowledge/{case.pk}/").content.decode()
    first_line = case.summary.strip().splitlines()[0][:40]
    assert html.count(first_line) == 1 and "<h2>答复口径</h2>" not in html
    guide = Article.objects.exclude(kind=Kind.CASE).first()
    assert "<h2>答复口径</h2>" in client.get(f"/knowledge/{guide.pk}/").content.decode()


# --- direct answers -------------------------------------------------------------------------------------


def test_intake_answered_from_an_article_cites_it(client, staff, order_data):
    from tests.test_workbench import intake_form

    article = publish("路灯报修电话", summary="路灯不亮请拨打 12319 城管热线报修。")
    client.force_login(staff["operator"])
    response = client.post(
        "/orders/new/", intake_form(order_data, answer_directly="1", answer=article.summary, article=article.pk)
    )
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert (order.state, order.closure, order.answered_article) == (State.ARCHIVED, Closure.DIRECT, article)
    event = OrderEvent.objects.get(order=order, action="answer_directly")
    assert event.data["article"] == article.pk and event.data["article_version"] == 1
    assert article.title in client.get(f"/orders/{order.number}/").content.decode()


def test_citing_a_withdrawn_or_unknown_article_is_refused_and_changes_nothing(client, staff, order_data, make_user):
    from tests.test_workbench import intake_form

    article = publish("过期口径", summary="旧答复")
    workflow.withdraw(None, article)
    client.force_login(staff["operator"])
    for cited in (article.pk, 987654):
        response = client.post(
            "/orders/new/", intake_form(order_data, answer_directly="1", answer="答复", article=cited)
        )
        assert response.status_code == 422
        assert "引用的知识条目不存在、已下线或已过期" in response.content.decode()
    assert not WorkOrder.objects.exists()

    order = t.intake(staff["operator"], order_data)[0]
    response = client.post(
        f"/api/orders/{order.number}/answer-directly",
        {"answer": "答复", "article": article.pk, "version": order.version},
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "article"
    order.refresh_from_db()
    assert order.state == State.PENDING_DISPATCH and order.answered_article is None


def test_usage_page_counts_direct_answers_per_type_and_article_and_lists_unused(client, staff, order_data):
    used = publish("户籍迁移咨询", summary="户籍迁移请到派出所。")
    unused = publish("养犬登记", summary="养犬登记到派出所。")
    case = publish("某案例", kind=Kind.CASE)
    for _ in range(2):
        order = t.intake(staff["operator"], order_data)[0]
        t.answer_directly(order, staff["operator"], answer="户籍迁移请到派出所。", article=used)
    t.intake(staff["operator"], order_data)
    rollup.refresh()  # the scheduler does this every minute
    client.force_login(staff["supervisor"])
    page = client.get("/knowledge/usage/").content.decode()
    assert "66.67%" in page  # 2 of 3 orders of the type answered directly
    assert used.title in page and unused.title in page and case.title not in page
    never = page.split("从未被引用的知识")[1]
    assert unused.title in never and used.title not in never


@pytest.mark.parametrize("cited", ["abc", "9" * 30, -1])
def test_citing_a_malformed_article_id_names_the_field(staff, order_data, cited):
    order = t.intake(staff["operator"], order_data)[0]
    with pytest.raises(InvalidInput) as refused:
        t.answer_directly(order, staff["operator"], answer="答复", article=cited)
    assert "article" in refused.value.errors
    order.refresh_from_db()
    assert order.state == State.PENDING_DISPATCH
