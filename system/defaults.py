"""Defaults of every setting an administrator can change at run time (table ``system.Setting``).

Each entry names the function that parses and validates the stored text, so a bad value is
rejected when it is saved, not when a deadline is computed at three in the morning.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SettingSpec:
    default: str
    label: str
    parser: str  # dotted path of a function str -> value that raises ValueError on bad input
    help: str = ""


SETTINGS: dict[str, SettingSpec] = {
    "working_hours": SettingSpec(
        default="09:00-12:00,13:30-17:30",
        label="工作时间",
        parser="workcalendar.worktime.parse_working_hours",
        help="每个工作日的办公时段，逗号分隔，如 09:00-12:00,13:30-17:30（北京时间）。",
    ),
    "callback_working_days": SettingSpec(
        default="2",
        label="回访时限（工作日）",
        parser="system.config.parse_positive_int",
        help="承办单位办结后，回访员须在多少个工作日内回访。",
    ),
    "max_extensions": SettingSpec(
        default="2",
        label="每张工单最多延期次数",
        parser="system.config.parse_positive_int",
    ),
    "return_window_working_hours": SettingSpec(
        default="2",
        label="签收后可申请退单的时间（工作小时）",
        parser="system.config.parse_positive_int",
        help="签收前可随时申请退单；签收后只能在这段工作时间内申请。",
    ),
    "kpi_weights": SettingSpec(
        default="0.10,0.45,0.45",
        label="综合得分权重（响应率,解决率,满意率）",
        parser="analytics.indicators.parse_weights",
        help="三个非负小数，逗号分隔，和为 1；默认为北京“三率”考核的 10%、45%、45%。",
    ),
    "hot_issue_days": SettingSpec(
        default="7",
        label="热点问题：统计最近多少天的工单",
        parser="system.config.parse_positive_int",
        help="后台每小时按这段时间的工单重新归并热点问题，驾驶舱和日报显示最新结果。",
    ),
    "ranking_min_orders": SettingSpec(
        default="5",
        label="红黑榜：参与排名的最少派单量",
        parser="system.config.parse_positive_int",
        help="统计期内派单少于此数的单位不参与排名，避免一两张工单决定名次。",
    ),
    "spot_check_penalty": SettingSpec(
        default="2",
        label="红黑榜：每个抽查问题扣分",
        parser="supervision.spotchecks.parse_penalty",
        help="专员抽查发现的每个问题从单位综合得分中扣除的分数（0–100，可为小数）；按问题工单的答复/归档日期计入统计期间。",
    ),
    "stuck_reopen_count": SettingSpec(
        default="2",
        label="屡办不成：重办次数达到",
        parser="system.config.parse_positive_int",
    ),
    "stuck_overdue_days": SettingSpec(
        default="10",
        label="久拖不决：超期天数达到",
        parser="system.config.parse_positive_int",
    ),
    "whistle_report_hours": SettingSpec(
        default="24",
        label="吹哨报到时限（小时）",
        parser="system.config.parse_positive_int",
        help="街道吹哨后，被召集的部门须在多少小时内报到。",
    ),
    "worker_stale_seconds": SettingSpec(
        default="120",
        label="后台任务心跳超时（秒）",
        parser="system.config.parse_positive_int",
        help="超过这个时间没有心跳，健康检查报告后台任务异常。",
    ),
}
