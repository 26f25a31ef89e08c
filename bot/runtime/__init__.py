"""Wiring: the Bolt app, the intake, the HTTP server and the Socket Mode connection, the scheduler and
leader election, start and stop.
May import everything in bot; nothing in bot imports it except the scheduler's job helpers.
"""
