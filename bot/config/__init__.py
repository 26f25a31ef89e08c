"""What an operator sets: environment settings, the TOML policy, durations, and the template renderer.
Imports nothing else from bot.
"""
