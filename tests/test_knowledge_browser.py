"""Real Chromium: an operator types a question, takes the suggested article's answer and closes the call
as 直接办结; a citizen finds the same article on the public FAQ."""

import re

import pytest
from django.core.management import call_command

from demo.loader import DEMO_PASSWORD
from knowledge.models import Article
from orders.models import Closure, State, WorkOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ARTICLE = "社会保障卡挂失补办"


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", orders=0, cases=100)


def test_operator_answers_a_call_from_a_suggested_article(live_server, page, demo):
    base = live_server.url
    article = Article.objects.get(title=ARTICLE)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", DEMO_PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")

    page.click("nav.menu >> text=受理")
    page.fill("#id_caller_phone", "13973100002")
    page.select_option("#id_request_type", "consult")
    page.fill("#id_category", "劳动和社会保障 › 城镇职工社会保险 › 其他")
    page.fill("#id_title", "社保卡丢了")
    page.locator("#id_content").press_sequentially("我的社保卡丢了，想问问怎么挂失补办，要带什么材料")
    suggestion = page.locator("#kb-suggest li", has_text=ARTICLE).first
    suggestion.wait_for()
    assert "<mark>" in suggestion.inner_html()
    page.screenshot(path="var/screenshot-intake-knowledge.png", full_page=True)
    suggestion.locator("button:has-text('采用此答复')").click()
    assert page.input_value("#id_answer") == article.summary
    assert page.input_value("#id_article") == str(article.pk)
    page.click("button[name=answer_directly]")
    page.wait_for_url(re.compile(r"/orders/\d{14}/$"))
    assert "已归档" in page.locator("h1").inner_text()
    assert ARTICLE in page.locator("main").inner_text()

    order = WorkOrder.objects.get()
    assert (order.state, order.closure, order.answered_article_id) == (State.ARCHIVED, Closure.DIRECT, article.pk)
    assert order.reply_content == article.summary

    # a citizen, not signed in, finds the same guide with its steps on the public FAQ
    page.context.clear_cookies()
    page.goto(f"{base}/faq/?q=社保卡补办")
    page.click(f"a[href='/faq/{article.pk}/']")
    assert page.locator("nav.steps li").count() >= 3
    assert "内部提示" not in page.locator("main").inner_text()
    page.screenshot(path="var/screenshot-faq.png", full_page=True)
