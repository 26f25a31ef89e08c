"""Alerts from monitoring (Alertmanager, Grafana, PagerDuty incidents) turned into incidents:
parsing, the declare-or-ask decision, and the announcement with *Declare incident* and *Dismiss*.
"""
