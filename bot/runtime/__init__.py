"""Wiring: the Bolt apps, the intake, the HTTP server, the scheduler and leader election, start and stop.
May import everything in bot; nothing in bot imports it except the scheduler's job helpers.
"""
