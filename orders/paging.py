"""Paging through lists of millions of orders: counts stop at a cap, so a page never counts the whole table.

A list of every order of a big city (or a year of one unit's finished orders) would otherwise run ``COUNT(*)`` over
millions of rows on every page view. Past ``COUNT_CAP`` the list says "10000+" and pages up to the cap; narrowing
the filters shows the exact number again.
"""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_CAP = 10_000
TAB_COUNT_CAP = 1_000  # the counts beside the inbox tabs: "1000+" says enough


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """(matches counted up to ``cap``, whether there are more): ``SELECT COUNT(*) FROM (… LIMIT cap + 1)``."""
    cap = COUNT_CAP if cap is None else cap
    counted = queryset.order_by()[: cap + 1].count()  # no ordering: the matches are counted, not sorted
    return min(counted, cap), counted > cap


class CappedPaginator(Paginator):
    """A paginator whose ``count`` stops at ``cap`` (``COUNT_CAP`` by default); ``capped`` tells the template to
    add "+"."""

    capped = False

    def __init__(self, *args, cap: int | None = None, counted: tuple[int, bool] | None = None, **kwargs) -> None:
        """``counted``: the (count, more) already known, e.g. beside a tab, so the list is not counted twice."""
        super().__init__(*args, **kwargs)
        self.cap = cap
        if counted is not None:
            self.__dict__["count"], self.capped = counted

    @cached_property
    def count(self) -> int:
        counted, self.capped = capped_count(self.object_list, self.cap)
        return counted

    def page(self, number) -> Page:
        """The page's ids first, without the joined tables (the planner cannot misjudge a text filter into nested
        loops over them), then those rows with everything the list shows."""
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = self.object_list.order_by().filter(pk__in=ids)
        by_pk = {row.pk: row for row in rows}
        return self._get_page([by_pk[pk] for pk in ids if pk in by_pk], number, self)
